#pragma once
// The pieces of a data-parallel training step (mpirun -np N lorasum train|pretrain): each rank
// runs its rows of every global batch, and the ranks' gradients are summed before the update,
// so that all ranks take the same step a single process would take on the whole batch.
#include <cstdint>
#include <string>
#include <vector>

#include "gpt2/model.h"
#include "gpt2/training/data.h"
#include "tensor/tensor.h"

namespace ls {

// Rows [first_row, first_row + batch.batch) of a global batch: rank r of n gets a contiguous,
// near-equal share (possibly none when the batch has fewer rows than there are ranks). The
// sequence length stays the global batch's, so padding and dropout positions match it.
struct Shard {
  Batch batch;
  int64_t first_row = 0;
};
Shard shard_rows(const Batch& whole, int rank, int ranks);

// Runs this rank's shard of `whole` forward and backward, weighted so that the ranks' gradients
// sum to the gradient of the whole batch's mean loss (divided by grad_accum); returns this
// rank's part of that loss. train() calls it only under mpirun: a single process runs the
// plain step on the whole batch, which this equals with one rank.
double shard_loss_backward(GPT2& model, const Batch& whole, int64_t grad_accum);

// Sums every rank's gradient into each parameter's (one MPI_Allreduce). A parameter ends with
// a gradient when any rank gave it one, as in a single process that saw every row.
void sum_gradients(const std::vector<Tensor>& params);

// One digest of what all ranks must share: the examples, the parameters' current values and
// the caller's settings record.
uint64_t training_digest(const std::vector<Example>& train_set,
                         const std::vector<Example>& eval_set, const std::vector<Tensor>& params,
                         const std::string& settings);

}  // namespace ls
