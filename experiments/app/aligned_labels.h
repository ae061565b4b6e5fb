#pragma once
// The study's `aligned-labels` choice: the layout of its training code, where the bare question
// and the bare answer are tokenized separately, each cut or padded with <|endoftext|> to
// `length` tokens; the question is the input and the answer the labels, position by position,
// and the padding counts in the loss (there is no ignore index).
#include <cstdint>

#include "gpt2/training/data.h"

namespace ls {

QaLayout aligned_labels_layout(int64_t length);

}  // namespace ls
