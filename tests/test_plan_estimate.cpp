// reproduce --plan's estimate in each precision: step times per shape and precision, summed by
// hand, and the plan's last line saying when bf16 is emulated.
#include <catch2/catch.hpp>
#include <filesystem>

#include "experiments/study/plan.h"
#include "tensor/gemm_library.h"
#include "tensor/io/file_io.h"
#include "tests/cli_runner.h"

using namespace ls;

TEST_CASE("the plan's estimate takes each precision's step time, once per shape", "[plan]") {
  std::string dir = test::fresh_dir("plan_estimate");
  std::filesystem::create_directories(dir);
  std::string data = dir + "/train.jsonl";
  std::string lines;
  for (int i = 0; i < 10; ++i)
    lines += R"({"question": "q", "answer": "a"})"
             "\n";
  write_file_atomic(data, lines);
  AdapterJob single;
  single.job.model_dir = dir + "/no-model";  // no tokenizer: every job at its full length
  single.job.data = {data};
  single.job.train.batch = 4;
  single.job.train.epochs = 2;
  single.job.train.seq_len = 32;
  PretrainJob pretrain;
  pretrain.train.max_steps = 5;
  pretrain.train.batch = 2;
  pretrain.train.seq_len = 128;  // cut to the model's 64 positions
  GPT2Config config = GPT2Config::preset("micro");
  config.n_positions = 64;
  int probes = 0;
  StepProbe probe = [&probes](const LoraConfig* lora, int64_t, int64_t, Precision p) {
    ++probes;
    double f32 = lora ? 0.25 : 1.0;  // seconds a step
    return p == Precision::bf16 ? 3.0 * f32 : f32;
  };
  for (Precision p : {Precision::f32, Precision::bf16}) {
    INFO(precision_name(p));
    single.job.train.precision = pretrain.train.precision = p;
    AdapterJob twin = single;  // the same shape, timed once
    probes = 0;
    PlanEstimate e = estimate_plan({&single, &twin}, &pretrain, config, probe);
    // By hand: pretraining is 5 steps of 2 × 64 tokens; each adapter job 10 examples in batches
    // of 4 for 2 epochs, 3 + 3 = 6 steps of 4 × 32 tokens. 640 + 2 · 768 = 2176 tokens.
    double scale = p == Precision::bf16 ? 3.0 : 1.0;
    CHECK(probes == 2);
    CHECK(e.pretrain_seconds == 5.0 * scale);
    CHECK(e.job_seconds == std::vector<double>{1.5 * scale, 1.5 * scale});
    CHECK(e.tokens == 2176.0);
    // f32: 5 + 1.5 + 1.5 = 8 s, 2176 / 8 = 272 tokens/s; bf16: 24 s, 90.7 tokens/s.
    CHECK_THAT(e.line(), Catch::StartsWith(p == Precision::bf16
                                               ? "# estimated total: 00:24 on this machine (2.2 "
                                                 "k tokens at 91 tokens/s in bf16; "
                                               : "# estimated total: 00:08 on this machine (2.2 "
                                                 "k tokens at 272 tokens/s; "));
    bool emulated = p == Precision::bf16 && !native_bf16();
    CHECK(e.emulated_bf16 == emulated);
    CHECK((e.line().find("bf16 is emulated here") != std::string::npos) == emulated);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("reproduce --plan --precision bf16 estimates bf16 steps and says if emulated", "[plan]") {
  std::string dir = test::fresh_dir("plan_bf16");
  test::CliResult plan =
      test::run_lorasum("reproduce --preset smoke --seeds 1 --precision bf16 --plan --out " + dir);
  INFO(plan.err);
  REQUIRE(plan.status == 0);
  std::string estimate = plan.out.substr(plan.out.rfind("# estimated total: "));
  CHECK_THAT(estimate, Catch::Contains(" tokens/s in bf16; training only"));
  CHECK((estimate.find("no native bf16") != std::string::npos) == !native_bf16());
  CHECK_THAT(plan.out, Catch::Contains(" --precision bf16 "));
  std::filesystem::remove_all(dir);
}
