// GPT-2 Small at its full shapes, end to end: a random 124 M checkpoint in Hugging Face layout
// goes through `reproduce --preset gpt2-small`, cut short to one step per training job and a
// few test examples per domain. Random weights say nothing about the study; what this proves is
// that every shape, file and table of the full-size path works, and what a step costs here.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/checkpoint.h"
#include "tensor/io/safetensors.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A few QA lines per domain in the {"question", "answer"} format of ../shared/data/qa.
std::string qa_lines(const std::string& topic, int count) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += fmt::format(
        "{{\"question\": \"Question {} about {}?\", \"answer\": \"Answer {} on "
        "{}, in a few more words.\"}}\n",
        i, topic, i, topic);
  return text;
}

// GPT-2 Small (12 layers, 12 heads, 768 wide, 1024 positions, 50257 tokens) with random
// weights, saved as config.json + model.safetensors, and a small BPE tokenizer beside it (a
// tokenizer smaller than the embedding is allowed: its ids are a subset of the rows).
void write_random_gpt2_small(const std::string& dir, const std::string& text) {
  train_bpe(text, 300).save(dir);
  save_gpt2(GPT2(GPT2Config::preset("gpt2"), 7), dir);
}

// The median of the `seconds` column over every training job's log.
double median_step_seconds(const json& results) {
  std::vector<double> seconds;
  for (const json& job : results["jobs"]) {
    std::istringstream lines(read_file(job["folder"].get<std::string>() + "/train_log.csv"));
    std::string line;
    std::getline(lines, line);  // header; seconds is the last column
    while (std::getline(lines, line))
      seconds.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  }
  REQUIRE(!seconds.empty());
  std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace

TEST_CASE("reproduce --preset gpt2-small runs cut short on a 124 M checkpoint", "[full-size]") {
  std::string dir = test::fresh_dir("full_size");
  std::string corpus;
  for (const char* domain : {"math", "medicine", "finance"}) {
    std::string train = qa_lines(domain, 8), test = qa_lines(std::string(domain) + " tests", 4);
    fs::create_directories(fmt::format("{}/data/{}", dir, domain));
    write_file_atomic(fmt::format("{}/data/{}/train.jsonl", dir, domain), train);
    write_file_atomic(fmt::format("{}/data/{}/test.jsonl", dir, domain), test);
    corpus += train;
  }
  write_random_gpt2_small(dir + "/model", corpus);

  test::CliResult r = test::run_lorasum(
      "reproduce --preset gpt2-small --model " + dir + "/model --data " + dir +
      "/data --seeds 1 --max-steps 1 --eval-limit 4 --no-progress --out " + dir + "/run");
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);  // the largest resident set of any process waited for
  INFO(r.err);
  REQUIRE(r.status == 0);

  json results = json::parse(read_file(dir + "/run/results.json"));
  // GPT-2 Small by hand: embeddings (50257 + 1024)·768, 12 blocks of 12·768² + 13·768, final norm.
  CHECK(results["base_model"]["parameters"] ==
        51281.0 * 768 + 12 * (12.0 * 768 * 768 + 13 * 768) + 2 * 768);
  CHECK(results["base_model"]["parameters"] == 124439808.0);
  CHECK(results["pairs"].size() == 3);
  for (const json& pair : results["pairs"]) {
    CHECK(std::isfinite(pair["change_pct"].get<double>()));
    CHECK(std::abs(pair["rms_cos"].get<double>()) < 1.0);
  }

  // The adapters have the study's shapes: r = 4 on c_attn (768→2304), attn.c_proj (768→768)
  // and mlp.c_proj (3072→768) in each of the 12 blocks, PEFT's lora_A (r, in), lora_B (out, r).
  std::string adapter =
      results["jobs"][0]["folder"].get<std::string>() + "/adapter_model.safetensors";
  SafetensorsFile file = SafetensorsFile::open(adapter);
  const std::string block = "base_model.model.transformer.h.11.";
  CHECK(file.info(block + "attn.c_attn.lora_A.weight").shape == std::vector<int64_t>{4, 768});
  CHECK(file.info(block + "attn.c_attn.lora_B.weight").shape == std::vector<int64_t>{2304, 4});
  CHECK(file.info(block + "mlp.c_proj.lora_A.weight").shape == std::vector<int64_t>{4, 3072});
  CHECK(file.info(block + "mlp.c_proj.lora_B.weight").shape == std::vector<int64_t>{768, 4});

  double peak_gib = static_cast<double>(usage.ru_maxrss) / (1 << 20);  // ru_maxrss is in KiB
  double step_s = median_step_seconds(results);
  fmt::print(
      "full-size run: peak memory {:.2f} GiB, {:.2f} s per training step (median of {} "
      "jobs, batch 8, sequences up to 128 tokens)\n",
      peak_gib, step_s, results["jobs"].size());
  CHECK(peak_gib < 4.0);  // a 124 M LoRA run belongs on a laptop

  // The full protocol's plan ends with an estimate from a short throughput measurement.
  test::CliResult plan =
      test::run_lorasum("reproduce --preset gpt2-small --model " + dir + "/model --data " + dir +
                        "/data --plan --out " + dir + "/plan");
  INFO(plan.err);
  REQUIRE(plan.status == 0);
  CHECK_THAT(plan.out, Catch::Contains(" train ") && Catch::Contains("\n# estimated total: ") &&
                           Catch::Contains(" tokens/s; training only"));
  fs::remove_all(dir);
}
