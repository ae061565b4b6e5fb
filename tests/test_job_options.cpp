// The option tables of the training jobs (experiments/app/job_options.h) make the flags of
// `lorasum train` and `pretrain`, the settings record and --plan's command lines. Every option,
// given a value that is not its default, must reach the record under the key written here by
// hand, and come back as the same flag from the job and from the record alone.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "experiments/app/job_options.h"
#include "experiments/app/settings.h"
#include "experiments/cli/option_flags.h"
#include "tensor/io/file_io.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
using nlohmann::json;

namespace {

// A flag's text, and where the record holds it with what value ("" and null: not recorded).
struct Given {
  std::string text;  // "" for a switch
  std::string pointer;
  json value;
};
using Values = std::map<std::string, Given>;

const Values kTrainValues = {
    {"--lr", {"0.003", "/train/lr", 0.003}},
    {"--epochs", {"3", "/train/epochs", 3}},
    {"--batch", {"5", "/train/batch", 5}},
    {"--seq-len", {"48", "/train/seq_len", 48}},
    {"--warmup", {"4", "/train/warmup", 4}},
    {"--schedule", {"constant", "/train/schedule", "constant"}},
    {"--weight-decay", {"0.2", "/train/weight_decay", 0.2}},
    {"--grad-clip", {"0.5", "/train/grad_clip", 0.5}},
    {"--grad-accum", {"2", "/train/grad_accum", 2}},
    {"--max-steps", {"17", "/train/max_steps", 17}},
    {"--seed", {"12345678901", "/train/seed", 12345678901ULL}},
    {"--keep-best", {"", "/train/keep_best", true}},
    {"--precision", {"bf16", "/train/precision", "bf16"}},
    {"--eval-every", {"3", "", nullptr}},
    {"--checkpoint-every", {"9", "", nullptr}},
    {"--resume", {"", "", nullptr}},
    {"--force", {"", "", nullptr}},
    {"--no-progress", {"", "", nullptr}},
};

Values lora_values() {
  Values v = kTrainValues;
  v.insert({
      {"--rank", {"7", "/lora/r", 7}},
      {"--alpha", {"12.5", "/lora/alpha", 12.5}},
      {"--targets", {"c_fc,mlp.c_proj", "/lora/targets", json::array({"c_fc", "mlp.c_proj"})}},
      {"--target-regex", {".*attn.*", "/lora/target_regex", ".*attn.*"}},
      {"--dropout", {"0.05", "/lora/dropout", 0.05}},
      {"--rslora", {"", "/lora/rslora", true}},
      {"--format", {"jsonl", "/text/data_format", "jsonl"}},
      {"--question-field", {"q", "/text/question_field", "q"}},
      {"--answer-field", {"a", "/text/answer_field", "a"}},
      {"--loss-on", {"answer", "/text/loss_on", "answer"}},
      {"--label-layout", {"aligned", "/text/label_layout", "aligned"}},
      {"--subsample", {"0.75", "/subsample", 0.75}},
      {"--batching", {"random", "/train/batching", "random"}},
      {"--train-head-copy", {"", "/head_copy", true}},
      {"--init-seed", {"99", "/init_seed", 99}},
  });
  return v;
}

Values pretrain_values() {
  Values v = kTrainValues;
  v.insert({
      {"--vocab-size", {"300", "/vocab_size", 300}},
      {"--n-layer", {"3", "/model/n_layer", 3}},
      {"--n-head", {"4", "/model/n_head", 4}},
      {"--n-embd", {"48", "/model/n_embd", 48}},
      {"--n-positions", {"80", "/model/n_positions", 80}},
      {"--dropout", {"0.2", "/model/dropout", 0.2}},
      {"--validation-fraction", {"0.1", "/validation_fraction", 0.1}},
      {"--tokens", {"2000000", "/tokens", 2000000}},
      {"--save-at", {"1000,5000", "", nullptr}},
  });
  return v;
}

// "flag value" pairs as a map (a switch maps to "").
std::map<std::string, std::string> by_flag(const std::vector<std::string>& words) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string& value = out[words[i]];
    if (i + 1 < words.size() && words[i + 1].rfind("--", 0) != 0) value = words[++i];
  }
  return out;
}

std::string listed(const std::map<std::string, std::string>& flags) {
  std::string out;
  for (const auto& [flag, text] : flags) out += flag + " " + text + "\n";
  return out;
}

// The leaves of a record, as JSON pointers.
void leaves(const json& j, const std::string& at, std::set<std::string>& out) {
  if (!j.is_object()) {
    out.insert(at);
    return;
  }
  for (auto& [k, v] : j.items()) leaves(v, at + "/" + k, out);
}

// Parses every given flag but `left_out` into a job through the CLI's flags, checks the record
// `record_of` makes of it, and that the flags come back from the job and from the record.
template <class Job, class Record>
void round_trip(const OptionTable<Job>& table, Job job, const Values& given,
                const std::string& left_out, Record record_of) {
  INFO("all but " << left_out);
  REQUIRE(table.size() == given.size());  // a row without a test value, or a value without a row
  CLI::App app;
  cli::add_option_flags(&app, table, job);
  std::string line;
  std::map<std::string, std::string> expected;
  for (const auto& [flag, g] : given) {
    if (flag == left_out) continue;
    line += " " + flag + (g.text.empty() ? "" : " " + g.text);
    expected[flag] = g.text;
  }
  app.parse(line);

  json record = record_of(job);
  std::set<std::string> recorded, wanted;
  leaves(record, "", recorded);
  for (const auto& [flag, g] : given) {
    if (g.pointer.empty()) continue;
    wanted.insert(g.pointer);
    INFO(flag);
    CHECK(record.at(json::json_pointer(g.pointer)) == g.value);
  }
  for (const char* own : {"/format", "/kind", "/base_model", "/data", "/eval_data", "/corpus"})
    recorded.erase(own);
  CHECK(recorded == wanted);

  CHECK(listed(by_flag(option_words(table, job))) == listed(expected));
  Job rebuilt;
  for (const JobOption<Job>& o : table)
    if (!o.key.empty()) o.set(rebuilt, record.at(json::json_pointer(pointer_of(o.key))));
  std::map<std::string, std::string> from_record = by_flag(option_words(table, rebuilt));
  for (const auto& [flag, g] : given)
    if (g.pointer.empty()) expected.erase(flag);
  for (const JobOption<Job>& o : table)
    if (o.key.empty()) from_record.erase(o.flag);
  CHECK(listed(from_record) == listed(expected));
}

}  // namespace

TEST_CASE("every train option goes flags → job → record → flags unchanged", "[options]") {
  auto record = [](const LoraJob& job) { return adapter_settings(job, "model"); };
  // --resume and --force exclude each other: each goes round without the other.
  for (const char* left_out : {"--force", "--resume"})
    round_trip(lora_job_options(), default_lora_job(), lora_values(), left_out, record);
}

TEST_CASE("every pretrain option goes flags → job → record → flags unchanged", "[options]") {
  auto record = [](const PretrainJob& job) { return options_record(pretrain_job_options(), job); };
  for (const char* left_out : {"--force", "--resume"})
    round_trip(pretrain_job_options(), default_pretrain_job(), pretrain_values(), left_out, record);
}

TEST_CASE("a folder recorded in another format stops train naming the format", "[options]") {
  test::TinySetup setup("record_format");
  std::string out = setup.path("adapter");
  std::string run = "train --model " + setup.model() + " --data " + setup.data() + " --out " + out +
                    " --max-steps 1 --no-progress --resume";
  REQUIRE(test::run_lorasum(run).status == 0);
  json record = json::parse(read_file(out + "/settings.json"));
  int format = record["format"];
  record["format"] = format - 1;
  write_file_atomic(out + "/settings.json", record.dump());
  test::CliResult again = test::run_lorasum(run);
  CHECK(again.status == 2);
  CHECK_THAT(again.err, Catch::Contains(
                            fmt::format("format: {} here, {} in the folder", format, format - 1)) &&
                            Catch::Contains(out));
}
