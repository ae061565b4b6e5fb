#pragma once
// Model folders in the Hugging Face layout: config.json + model.safetensors.
#include <memory>
#include <string>

#include "gpt2/model.h"

namespace ls {

// Loads a GPT-2 checkpoint as the Hub stores it: names with or without the `transformer.`
// prefix; F32/F16/BF16 weights (converted to float32); the `attn.bias`/`attn.masked_bias`
// mask buffers skipped; `lm_head.weight` absent (tied) or equal to `wte.weight`.
std::unique_ptr<GPT2> load_gpt2(const std::string& dir);

// Writes config.json and model.safetensors (Hub names, metadata format=pt) atomically, so that
// transformers.GPT2LMHeadModel.from_pretrained(dir) loads it.
void save_gpt2(const GPT2& model, const std::string& dir);

}  // namespace ls
