#pragma once
// The pretraining dose: how many tokens a base model saw. `lorasum pretrain --tokens N` stops
// after N tokens (the corpus repeats as often as that needs) and `--save-at N1,N2,…` keeps
// snapshots of the same run on the way, each a complete model folder, so a ladder of doses costs
// one pretraining. Every model folder it writes holds pretraining.json: tokens, passes over the
// corpus, tokens per parameter and the final validation loss.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/app/training.h"

namespace ls {

// "32000000", "32M", "1.5k", "2G" → the count; throws InputError naming `flag` otherwise.
int64_t parse_token_count(const std::string& text, const std::string& flag);
// "1M,3M,10M" → sorted, distinct counts.
std::vector<int64_t> parse_token_counts(const std::string& text, const std::string& flag);

// Tokens one optimizer step reads: batch × grad_accum windows of seq_len predicted tokens.
int64_t tokens_per_step(const TrainOptions& t, int64_t seq_len);
// The steps that read at least `tokens` tokens.
int64_t steps_for_tokens(const TrainOptions& t, int64_t seq_len, int64_t tokens);
// The options that stop after `tokens` tokens over a training set of `windows` windows: as
// many epochs as that takes, and max_steps (an earlier --max-steps still stops first).
TrainOptions with_token_budget(TrainOptions t, int64_t seq_len, int64_t windows, int64_t tokens);

// Where the snapshot at `tokens` of the model folder `out` goes: `<out>-tokens<N>`, beside it.
std::string snapshot_dir(const std::string& out, int64_t tokens);
// The job whose run stopped after `tokens` tokens equals this snapshot bit for bit: with a
// constant schedule (after warm-up) the run of `--tokens N`; with a decaying one, whose rate
// depends on the whole length, the same run cut short by --max-steps at that step.
PretrainJob snapshot_job(const PretrainJob& job, int64_t tokens, int64_t step);

// pretraining.json of a model folder after `steps` steps.
struct DoseFigures {
  int64_t steps = 0, tokens = 0;
  double passes = 0, parameters = 0, valid_loss = -1, train_loss = 0;
};
nlohmann::json dose_json(const DoseFigures& d);
// The pretraining.json of a model folder, or null when lorasum did not pretrain it.
nlohmann::json read_dose(const std::string& model_dir);

}  // namespace ls
