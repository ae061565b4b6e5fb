#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "experiments/study.h"
#include "gpt2/checkpoint.h"
#include "lora/factors.h"
#include "lora/progress.h"
#include "tensor/error.h"

namespace ls {

double Stat::mean() const {
  return values.empty() ? 0.0 : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

double Stat::std() const {
  if (values.size() < 2) return 0.0;
  double m = mean(), s = 0.0;
  for (double v : values) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(values.size() - 1));
}

Fit least_squares(const std::vector<double>& x, const std::vector<double>& y) {
  Fit f;
  f.points = static_cast<int>(x.size());
  if (x.size() < 2) return f;
  double n = static_cast<double>(x.size());
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  f.slope = sxx > 0 ? sxy / sxx : 0.0;
  f.intercept = my - f.slope * mx;
  f.pearson_r = sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
  return f;
}

namespace {

using PplByDomain = std::map<std::string, Perplexity>;

// Perplexity over the union of several domains' test sets, from their totals.
double union_ppl(const PplByDomain& p, const std::vector<std::string>& domains) {
  Perplexity total;
  for (const std::string& d : domains) {
    total.total_nll += p.at(d).total_nll;
    total.tokens += p.at(d).tokens;
  }
  return total.value();
}

double change_pct(double ppl_sum, double ppl_merged) {
  return (ppl_sum - ppl_merged) / ppl_merged * 100.0;
}

std::string join(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, "+")); }

// RMS over all modules of several similarity reports together.
double pooled_rms(const std::vector<SimilarityReport>& reports) {
  double sum = 0;
  int n = 0;
  for (const auto& r : reports)
    for (const auto& m : r.modules)
      if (!std::isnan(m.cosine)) {
        sum += m.cosine * m.cosine;
        ++n;
      }
  return n ? std::sqrt(sum / n) : 0.0;
}

// Models evaluated per seed: singles, pairs (merged and sum), triple (merged and sum), variants.
constexpr int kModelsPerSeed = 3 + 3 * 2 + 2 + 3;

class Evaluator {
 public:
  Evaluator(const std::string& model_dir, const std::string& data_dir, const Preset& preset,
            const ReproduceOptions& o)
      : model_(load_gpt2(model_dir)),
        preset_(preset),
        bar_("evaluate", 1 + kModelsPerSeed * o.seeds, o.progress) {
    Tokenizer tok = Tokenizer::load(model_dir);
    for (const std::string& d : study_domains())
      tests_[d] = load_qa_jsonl(fmt::format("{}/{}/test.jsonl", data_dir, d), tok);
  }

  // Perplexity on every domain with these adapters active together.
  PplByDomain run(const std::vector<std::shared_ptr<LoraAdapter>>& adapters) {
    for (auto& a : adapters) a->attach(*model_);
    PplByDomain out;
    int64_t seq = std::min(preset_.adapter.seq_len, model_->config().n_positions);
    for (auto& [d, examples] : tests_)
      out[d] = evaluate_perplexity(*model_, examples, preset_.eval_batch, seq);
    for (auto& a : adapters) a->detach(*model_);
    bar_.update(++done_, fmt::format("{} adapter(s) active", adapters.size()));
    return out;
  }

  std::shared_ptr<LoraAdapter> load(const std::string& dir) { return LoraAdapter::load(dir, *model_); }
  void finish() { bar_.finish(fmt::format("{} evaluations", done_)); }

 private:
  std::unique_ptr<GPT2> model_;
  const Preset& preset_;
  std::map<std::string, std::vector<Example>> tests_;
  ProgressBar bar_;
  int64_t done_ = 0;
};

}  // namespace

StudyResults evaluate_study(const ReproduceOptions& options, const Preset& preset,
                            const std::vector<AdapterJob>& jobs, const std::string& model_dir,
                            const std::string& data_dir) {
  const auto& domains = study_domains();
  Evaluator eval(model_dir, data_dir, preset, options);
  StudyResults R;
  R.domains = domains;
  PplByDomain base = eval.run({});
  for (const std::string& d : domains) R.base[d].values.push_back(base[d].value());
  std::vector<std::vector<std::string>> pairs = {{domains[0], domains[1]},
                                                 {domains[0], domains[2]},
                                                 {domains[1], domains[2]}};
  R.pairs.resize(pairs.size());
  R.triple.domains = domains;
  for (size_t i = 0; i < pairs.size(); ++i) R.pairs[i].domains = pairs[i];
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string& third = *std::find_if(domains.begin(), domains.end(), [&](const auto& d) {
      return std::find(pairs[i].begin(), pairs[i].end(), d) == pairs[i].end();
    });
    R.variants.push_back({pairs[i], third, {}, {}, {}});
  }
  std::vector<double> fit_x, fit_y;
  for (int seed = 0; seed < options.seeds; ++seed) {
    std::map<std::string, std::shared_ptr<LoraAdapter>> adapter;
    for (const AdapterJob& j : jobs)
      if (j.seed == seed) adapter[j.label()] = eval.load(j.job.out);
    // Singles on every domain.
    for (const std::string& a : domains) {
      PplByDomain p = eval.run({adapter[a]});
      for (const std::string& d : domains) R.singles[a][d].values.push_back(p[d].value());
    }
    // Pairs: merged-data adapter against the naive sum of the two singles.
    std::vector<SimilarityReport> pair_reports;
    for (size_t i = 0; i < pairs.size(); ++i) {
      PairResult& pr = R.pairs[i];
      std::string label = join(pairs[i]);
      double merged = union_ppl(eval.run({adapter[label]}), pairs[i]);
      double summed = union_ppl(eval.run({adapter[pairs[i][0]], adapter[pairs[i][1]]}), pairs[i]);
      SimilarityReport sim = adapter_similarity(*adapter[pairs[i][0]], *adapter[pairs[i][1]]);
      pair_reports.push_back(sim);
      if (seed == 0) R.pair_similarity[label] = sim;
      pr.ppl_merged.values.push_back(merged);
      pr.ppl_sum.values.push_back(summed);
      pr.change_pct.values.push_back(change_pct(summed, merged));
      pr.rms_cos.values.push_back(sim.rms_cosine);
      pr.mean_abs_cos.values.push_back(sim.mean_abs_cosine);
      pr.max_abs_cos.values.push_back(sim.max_abs_cosine);
      pr.param_cos.values.push_back(sim.param_cosine);
      fit_x.push_back(sim.rms_cosine);
      fit_y.push_back(change_pct(summed, merged));
    }
    // The triple: merged-data on all three against the sum of all singles, and the variants
    // (a pair's merged adapter plus the third single).
    std::string all = join(domains);
    double merged_all = union_ppl(eval.run({adapter[all]}), domains);
    double sum_all = union_ppl(
        eval.run({adapter[domains[0]], adapter[domains[1]], adapter[domains[2]]}), domains);
    R.triple.ppl_merged.values.push_back(merged_all);
    R.triple.ppl_sum.values.push_back(sum_all);
    R.triple.change_pct.values.push_back(change_pct(sum_all, merged_all));
    R.triple.rms_cos.values.push_back(pooled_rms(pair_reports));
    for (VariantResult& v : R.variants) {
      auto merged = adapter[join(v.merged)], single = adapter[v.single];
      double ppl = union_ppl(eval.run({merged, single}), domains);
      v.ppl.values.push_back(ppl);
      v.change_pct.values.push_back(change_pct(ppl, merged_all));
      v.rms_cos.values.push_back(adapter_similarity(*merged, *single).rms_cosine);
    }
    if (seed == 0)
      R.random_cos = random_baseline(AdapterFactors::of(*adapter[domains[0]]),
                                     AdapterFactors::of(*adapter[domains[1]]), 8, 7);
  }
  R.fit = least_squares(fit_x, fit_y);
  eval.finish();
  return R;
}

}  // namespace ls
