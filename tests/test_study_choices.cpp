// The study's choices, each on a fixed example against a hand-written expectation: the label
// layout of aligned-labels, eval-overlap's selection, merged-subsample's fraction,
// shared-init's identical A, cproj-untransposed's transpose, half-scale's factor and
// discarded-lm-head's head copy. Then which jobs each choice touches, through --plan.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "experiments/app/aligned_labels.h"
#include "experiments/app/training.h"
#include "experiments/study/study.h"
#include "lora/factors.h"
#include "tensor/io/safetensors.h"
#include "tests/cli_runner.h"
#include "tests/random_adapter.h"
#include "tests/test_models.h"
#include "tests/tiny_setup.h"

using namespace ls;
namespace fs = std::filesystem;

namespace {

std::vector<float> values(const Tensor& t) {
  Tensor c = t.clone();
  return std::vector<float>(c.data(), c.data() + c.numel());
}

// ΔW = scale·B·A of every module of an adapter, [out, in], by naive loops.
std::map<std::string, Tensor> deltas(const LoraAdapter& a) {
  std::map<std::string, Tensor> out;
  for (auto& [name, low] : AdapterFactors::of(a).modules) out[name] = low.dense();
  return out;
}

using test::random_adapter;

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("aligned-labels: answer ids are the labels at the question's positions, padding counts",
          "[study-choices]") {
  test::TinySetup setup("aligned_labels");
  Tokenizer tok = Tokenizer::load(setup.model());
  std::string file =
      setup.write("qa.jsonl", "{\"question\": \"What is 1 plus 3?\", \"answer\": \"4\"}\n");
  TextFormat format;
  format.qa_layout = aligned_labels_layout(8);
  std::vector<Example> ex = load_qa_jsonl(file, tok, format);
  REQUIRE(ex.size() == 1);
  // Expected by hand: each side tokenized alone, cut or padded with <|endoftext|> to 8.
  int32_t eot = tok.eot_id();
  std::vector<int32_t> q = tok.encode("What is 1 plus 3?"), a = tok.encode("4");
  REQUIRE(a.size() < 8);
  q.resize(8, eot);
  a.resize(8, eot);
  CHECK(ex[0].tokens == q);
  CHECK(ex[0].labels == a);
  Batch b = make_batch(ex, {0}, 8, 0);
  REQUIRE(b.seq == 7);  // HF drops the last position's logits after the shift
  CHECK(b.ids == std::vector<int32_t>(q.begin(), q.begin() + 7));
  // Position t predicts answer token t + 1; the EOS padding of the answer counts too.
  CHECK(b.targets == std::vector<int32_t>{a[1], a[2], a[3], a[4], a[5], a[6], a[7]});
  CHECK(b.counted_tokens() == 7);
}

TEST_CASE("eval-overlap selects the study's evaluation examples", "[study-choices]") {
  std::map<std::string, size_t> train = {{"math", 8}, {"medicine", 12}, {"finance", 10}};
  // Math+Med: [math ++ medicine] has 20; the test part starts at int(16) + int(2) = 18.
  CHECK(overlap_selection("math+medicine", train, 1) ==
        std::vector<Pick>{{"medicine", 10}, {"medicine", 11}});
  // Math+Fin: [finance ++ math] has 18; int(14.4) + int(1.8) = 15: the last three math ones.
  CHECK(overlap_selection("math+finance", train, 1) ==
        std::vector<Pick>{{"math", 5}, {"math", 6}, {"math", 7}});
  // Fin+Med: a seeded random 22 − int(17.6) − int(2.2) = 3 of [finance ++ medicine].
  auto random = overlap_selection("medicine+finance", train, 1);
  REQUIRE(random.size() == 3);
  std::set<std::pair<std::string, size_t>> distinct;
  for (const Pick& p : random) {
    CHECK((p.domain == "finance" || p.domain == "medicine"));
    CHECK(p.index < train[p.domain]);
    distinct.insert({p.domain, p.index});
  }
  CHECK(distinct.size() == 3);
  CHECK(overlap_selection("medicine+finance", train, 1) == random);  // deterministic
  // Triple: 50 test examples per domain, math, then finance, then medicine.
  std::map<std::string, size_t> test = {{"math", 60}, {"medicine", 80}, {"finance", 70}};
  auto triple = overlap_selection("triple", test, 1);
  REQUIRE(triple.size() == 150);
  for (size_t i = 0; i < 150; ++i) {
    const char* domain = i < 50 ? "math" : i < 100 ? "finance" : "medicine";
    CHECK(triple[i].domain == domain);
    CHECK(triple[i].index < test[domain]);
  }
}

TEST_CASE("merged-subsample keeps int(f·n) examples, the same ones for the same seed",
          "[study-choices]") {
  test::TinySetup setup("subsample");
  Tokenizer tok = Tokenizer::load(setup.model());
  LoraJob job;
  job.data = {setup.data()};  // 48 examples
  job.train.seed = 5;
  auto all = job_examples(job, tok, 64);
  REQUIRE(all.size() == 48);
  job.subsample = 0.5;
  auto half = job_examples(job, tok, 64);
  CHECK(half.size() == 24);
  job.subsample = 0.8;
  CHECK(job_examples(job, tok, 64).size() == 38);  // int(38.4)
  job.subsample = 0.5;
  auto again = job_examples(job, tok, 64);
  auto tokens = [](const std::vector<Example>& v) {
    std::vector<std::vector<int32_t>> out;
    for (const Example& e : v) out.push_back(e.tokens);
    return out;
  };
  CHECK(tokens(again) == tokens(half));
  job.train.seed = 6;
  CHECK(tokens(job_examples(job, tok, 64)) != tokens(half));
  // Every kept example is one of the file's, none twice.
  std::set<std::vector<int32_t>> originals, kept;
  for (const auto& t : tokens(all)) originals.insert(t);
  for (const auto& t : tokens(half)) {
    CHECK(originals.count(t) == 1);
    kept.insert(t);
  }
  CHECK(kept.size() == 24);
}

TEST_CASE("cproj-untransposed transposes the square attn.c_proj deltas and nothing else",
          "[study-choices]") {
  GPT2 model(test::micro_config(16, 40, false), 1);
  auto adapter = random_adapter(model, 3);
  auto before = deltas(*adapter);
  apply_eval_choices(*adapter, {StudyChoice::cproj_untransposed}, false);
  auto after = deltas(*adapter);
  int transposed = 0;
  for (auto& [name, d] : before) {
    INFO(name);
    bool cproj = name.find("attn.c_proj") != std::string::npos;
    const Tensor& a = after.at(name);
    REQUIRE(a.shape() == d.shape());
    int64_t rows = d.size(0), cols = d.size(1);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        float expected = cproj ? d.data()[j * cols + i] : d.data()[i * cols + j];
        REQUIRE(a.data()[i * cols + j] == Approx(expected).margin(1e-6));
      }
    transposed += cproj;
  }
  CHECK(transposed == 2);  // one per layer of the micro model
}

TEST_CASE("half-scale halves the deltas that went through multiplyOut.py only", "[study-choices]") {
  GPT2 model(test::micro_config(16, 40, false), 1);
  auto multiplied = random_adapter(model, 3), kept = random_adapter(model, 3);
  auto before = deltas(*multiplied);
  apply_eval_choices(*multiplied, {StudyChoice::half_scale}, true);
  apply_eval_choices(*kept, {StudyChoice::half_scale}, false);
  auto halved = deltas(*multiplied), same = deltas(*kept);
  for (auto& [name, d] : before)
    for (int64_t i = 0; i < d.numel(); ++i) {
      REQUIRE(halved.at(name).data()[i] == Approx(0.5f * d.data()[i]).margin(1e-7));
      REQUIRE(same.at(name).data()[i] == d.data()[i]);
    }
}

TEST_CASE("shared-init starts adapters of different jobs from the same A", "[study-choices]") {
  test::TinySetup setup("shared_init");
  // A learning rate of 1e-30 leaves A as initialised (A ± 1e-30 rounds to A in float).
  auto train = [&](const std::string& out, int seed, int init_seed) {
    test::CliResult r = test::run_lorasum(fmt::format(
        "train --model {} --data {} --out {} --max-steps 1 --lr 1e-30 --seed {} --init-seed {} "
        "--no-progress",
        setup.model(), setup.data(), setup.path(out), seed, init_seed));
    INFO(r.err);
    REQUIRE(r.status == 0);
    return AdapterFactors::read(setup.path(out));
  };
  AdapterFactors a = train("a", 1, 9), b = train("b", 2, 9), c = train("c", 1, 10);
  for (auto& [name, low] : a.modules) {
    INFO(name);
    CHECK(values(low.A) == values(b.modules.at(name).A));
    CHECK(values(low.A) != values(c.modules.at(name).A));
  }
}

TEST_CASE("discarded-lm-head trains a head copy that the saved adapter leaves out",
          "[study-choices]") {
  test::TinySetup setup("head_copy");
  auto train = [&](const std::string& out, const char* extra) {
    test::CliResult r = test::run_lorasum(fmt::format(
        "train --model {} --data {} --out {} --max-steps 3 --lr 1e-2 --seed 1 --dropout 0 {} "
        "--no-progress",
        setup.model(), setup.data(), setup.path(out), extra));
    INFO(r.err);
    REQUIRE(r.status == 0);
    return AdapterFactors::read(setup.path(out));
  };
  AdapterFactors plain = train("plain", ""), copy = train("copy", "--train-head-copy");
  SafetensorsFile file = SafetensorsFile::open(setup.path("copy/adapter_model.safetensors"));
  REQUIRE(file.tensors().size() == plain.modules.size() * 2);
  for (const SafetensorInfo& t : file.tensors())
    CHECK(t.name.find("lora_") != std::string::npos);  // only LoRA factors are kept
  // The copy trained: from step 2 on the LoRA factors see another head, so they differ.
  bool differ = false;
  for (auto& [name, low] : plain.modules)
    differ = differ || values(low.B) != values(copy.modules.at(name).B);
  CHECK(differ);
}

TEST_CASE("each study choice changes exactly the jobs the study's code changed",
          "[study-choices]") {
  std::string dir = (fs::temp_directory_path() / "lorasum_test_choice_jobs").string();
  fs::remove_all(dir);
  auto plan = [&](const std::string& choices) {
    test::CliResult r = test::run_lorasum("reproduce --preset smoke --seeds 1 --plan --out " + dir +
                                          " --study-choices " + choices);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return r.out;
  };
  std::string subsample = plan("merged-subsample");
  CHECK(lines_with(subsample, "--subsample 0.5").size() == 2);  // math+med, fin+med
  CHECK(lines_with(subsample, "--subsample 0.8").size() == 1);  // math+fin
  CHECK(lines_with(lines_with(subsample, "--subsample 0.8")[0], "math+finance").size() == 1);
  std::string head = plan("discarded-lm-head");
  auto heads = lines_with(head, "--train-head-copy");
  REQUIRE(heads.size() == 4);  // finance and the three pair-merged runs
  for (const std::string& l : heads)
    CHECK((l.find("/finance-") != std::string::npos || l.find("+") != std::string::npos));
  CHECK(lines_with(head, "math+medicine+finance-").empty() == false);
  for (const std::string& l : lines_with(head, "math+medicine+finance-"))
    CHECK(l.find("--train-head-copy") == std::string::npos);
  auto inits = lines_with(plan("shared-init"), "--init-seed 0 ");
  CHECK(inits.size() == 4);  // the three singles and the all-three merged run
  CHECK(lines_with(plan("aligned-labels"), "--label-layout aligned").size() == 7);
  fs::remove_all(dir);
}

TEST_CASE("study choices are read by name once, in the README's order", "[study-choices]") {
  const std::pair<const char*, StudyChoice> named[] = {
      {"aligned-labels", StudyChoice::aligned_labels},
      {"eval-overlap", StudyChoice::eval_overlap},
      {"merged-subsample", StudyChoice::merged_subsample},
      {"discarded-lm-head", StudyChoice::discarded_lm_head},
      {"shared-init", StudyChoice::shared_init},
      {"cproj-untransposed", StudyChoice::cproj_untransposed},
      {"half-scale", StudyChoice::half_scale}};
  for (const auto& [name, choice] : named) {
    INFO(name);
    StudyChoices one = StudyChoices::parse(name);
    CHECK(one == StudyChoices{choice});
    CHECK(one.names() == std::vector<std::string>{name});
    CHECK(one.label() == name);
  }
  StudyChoices two = StudyChoices::parse("half-scale,aligned-labels");
  CHECK(two.has(StudyChoice::aligned_labels));
  CHECK(two.has(StudyChoice::half_scale));
  CHECK(!two.has(StudyChoice::shared_init));
  CHECK(two.label() == "aligned-labels,half-scale");  // the README's order, not the flag's
  CHECK(StudyChoices::parse("none").empty());
  CHECK(StudyChoices::parse("all").names().size() == 7);
  CHECK(StudyChoices::parse("all").label() == "all");
  CHECK(ablation_configurations().size() == 9);  // none, each alone, all
  CHECK_THROWS_WITH(StudyChoices::parse("eval-overlap,sharedinit"),
                    Catch::Contains("--study-choices: unknown choice 'sharedinit'"));
}

TEST_CASE("an unknown study choice is rejected with exit 2", "[study-choices]") {
  test::CliResult r =
      test::run_lorasum("reproduce --preset smoke --seeds 1 --plan --out " +
                        (fs::temp_directory_path() / "lorasum_test_bad_choice").string() +
                        " --study-choices aligned-labels,half-scal");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("half-scal") && Catch::Contains("half-scale"));
}

TEST_CASE("the ablation's fit column is n/a for a fit over fewer than 3 points",
          "[study-choices]") {
  auto configuration = [](int points) {
    StudyResults r;
    r.domains = study_domains();
    PairResult p;
    p.domains = {"math", "medicine"};
    for (Stat* s : {&p.change_pct, &p.rms_cos, &p.ppl_sum, &p.ppl_merged}) s->values = {1.0, 2.0};
    r.pairs = {p};
    r.fit = least_squares(std::vector<double>(points, 0.5), std::vector<double>(points, 1.0));
    r.fit_all = r.fit;
    return r;
  };
  std::string dir = test::fresh_dir("ablation_fit_points");
  std::filesystem::create_directories(dir);
  nlohmann::json record = {{"preset", "smoke"}, {"seeds", 2}};
  std::string table = write_ablation_report({configuration(2), configuration(3)}, dir, record);
  CHECK_THAT(table, Catch::Contains("| n/a / n/a |\n") && Catch::Contains("| 0.00 / 0.00 |\n"));
  nlohmann::json j = nlohmann::json::parse(read_file(dir + "/ablation.json"));
  CHECK(j["configurations"][0]["fit_pearson_r"]["pairs"].is_null());
  CHECK(j["configurations"][1]["fit_pearson_r"]["pairs"] == 0.0);  // 3 equal points: r of 0
  CHECK_THAT(table, Catch::StartsWith("\n# Ablation of the study's choices\n\n- preset: smoke\n- "
                                      "seeds: 2\n- study choices: one configuration a row"));
  std::filesystem::remove_all(dir);
}
