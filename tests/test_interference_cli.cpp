// `lorasum similarity --data` and `lorasum merge --search-weights` on a micro model: the
// figures the commands print equal the library's, and misused flags are refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gpt2/checkpoint.h"
#include "lora/compose.h"
#include "lora/interference_probe.h"
#include "lora/weight_search.h"
#include "tests/cli_runner.h"
#include "tests/random_adapter.h"
#include "tests/tiny_setup.h"

using namespace ls;

namespace {

// Two adapters with random deltas, in folders named after their domains, and each domain's
// test split (the setup's QA file).
struct TwoDomains {
  test::TinySetup s{"interference_cli"};
  std::string math = s.path("adapters/math"), medicine = s.path("adapters/medicine");
  TwoDomains() {
    auto model = load_gpt2(s.model());
    uint64_t seed = 1;
    for (const std::string& dir : {math, medicine}) {
      test::random_adapter(*model, seed++, 0.02f)->save(dir);
    }
    std::string text = read_file(s.data());
    s.write("data/math/test.jsonl", text);
    s.write("data/medicine/test.jsonl", text.substr(text.find('\n', text.size() / 2) + 1));
  }
  std::string adapters() const {
    return " --adapter " + test::quoted(math) + " --adapter " + test::quoted(medicine);
  }
};

}  // namespace

TEST_CASE("lorasum similarity --data adds the data-aware measures", "[interference]") {
  TwoDomains t;
  test::CliResult r =
      test::run_lorasum("similarity --json --data-limit 8 --model " + test::quoted(t.s.model()) +
                        " --data " + test::quoted(t.s.path("data")) + t.adapters());
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(r.out);
  auto d = j["pairs"][0]["data_aware"];
  auto model = load_gpt2(t.s.model());
  Tokenizer tok = Tokenizer::load(t.s.model());
  auto a = LoraAdapter::load(t.math, *model), b = LoraAdapter::load(t.medicine, *model);
  auto first8 = [&](const std::string& domain) {
    auto ex = load_qa_jsonl(t.s.path("data/" + domain + "/test.jsonl"), tok);
    ex.resize(8);
    return ProbeData{ex, 8, 128};
  };
  PairInterference p = pair_interference(*model, *a, *b, first8("math"), first8("medicine"));
  CHECK(d["xi_a"].get<double>() == Approx(p.xi_a));
  CHECK(d["cross_talk"].get<double>() == Approx(p.cross_talk));
  CHECK(d["gradient_cosine"].get<double>() == Approx(p.gradient_cosine));
  CHECK(j["domains"] == nlohmann::json({"math", "medicine"}));
  CHECK(j["relative_delta_norm"][0].get<double>() == Approx(p.relative_norm_a));

  test::CliResult text =
      test::run_lorasum("similarity --data-limit 4 --model " + test::quoted(t.s.model()) +
                        " --data " + test::quoted(t.s.path("data")) + t.adapters());
  CHECK_THAT(text.out, Catch::Contains("cross-talk") && Catch::Contains("ξ"));
  // An adapter folder with no data of its name, and --data without --model, are refused.
  CHECK(test::run_lorasum("similarity --model " + test::quoted(t.s.model()) + " --data " +
                          test::quoted(t.s.path("adapters")) + t.adapters())
            .status == 2);
  CHECK(test::run_lorasum("similarity --data " + test::quoted(t.s.path("data")) + t.adapters())
            .status == 2);
}

TEST_CASE("lorasum merge --search-weights writes the weighted sum it reports", "[weight-search]") {
  TwoDomains t;
  std::string out = t.s.path("searched");
  std::string common = "merge" + t.adapters() + " --out " + test::quoted(out);
  test::CliResult r = test::run_lorasum(
      common + " --search-weights --search-steps 3 --model " + test::quoted(t.s.model()) +
      " --data " + test::quoted(t.s.path("data/math/test.jsonl")) + " --search-examples 6");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("searched weights on 6 validation examples") &&
                        Catch::Contains("validation loss"));
  AdapterFactors written = AdapterFactors::read(out);
  CHECK(written.rank() == 4);
  // The same search in the library, folded in and summed, is what was written.
  auto model = load_gpt2(t.s.model());
  auto validation = load_qa_jsonl(t.s.path("data/math/test.jsonl"), Tokenizer::load(t.s.model()));
  validation.resize(6);
  std::vector<AdapterFactors> inputs = {AdapterFactors::read(t.math),
                                        AdapterFactors::read(t.medicine)};
  WeightSearchOptions o;
  o.steps = 3;
  WeightSearch s = search_weights(*model, inputs, validation, o);
  Composition expected = compose(apply_weights(inputs, s), {});
  for (auto& [module, f] : expected.adapter.modules)
    CHECK(written.modules.at(module).B.to_vector() == f.B.to_vector());
  CHECK(
      test::run_lorasum(common + " --search-weights --model " + test::quoted(t.s.model())).status ==
      2);  // no --data
  CHECK(test::run_lorasum(common + " --data " + test::quoted(t.s.data())).status == 2);
  CHECK(test::run_lorasum(common + " --search-weights --weights 1,2 --model " +
                          test::quoted(t.s.model()) + " --data " + test::quoted(t.s.data()))
            .status == 2);
}
