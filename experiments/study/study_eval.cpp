#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <string_view>

#include "experiments/app/aligned_labels.h"
#include "experiments/app/settings.h"
#include "experiments/app/workspace.h"
#include "experiments/study/compositions.h"
#include "experiments/study/study.h"
#include "gpt2/checkpoint.h"
#include "lora/factors.h"
#include "lora/weight_search.h"
#include "tensor/error.h"
#include "tensor/io/progress.h"
#include "tensor/precision.h"

namespace ls {

double Stat::mean() const {
  return values.empty() ? 0.0 : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

std::string domains_label(const std::vector<std::string>& domains) {
  return fmt::format("{}", fmt::join(domains, "+"));
}

std::string mean_pm(double mean, double std, const char* mean_format, const char* std_format) {
  std::string text = fmt::format(fmt::runtime(mean_format), mean);
  if (std::isnan(std)) return text;
  return text + " ± " + fmt::format(fmt::runtime(std_format ? std_format : mean_format), std);
}

std::string mean_pm(const Stat& s, const char* mean_format, const char* std_format) {
  return mean_pm(s.mean(), s.values.size() < 2 ? NAN : s.std(), mean_format, std_format);
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

// Seeds of the study's random evaluation splits and of the random-adapter baseline.
constexpr uint64_t kOverlapSeed = 42;  // the study's SEED
constexpr uint64_t kBaselineSeed = 7;

// Perplexity over the union of several domains' test sets, from their totals.
double union_ppl(const std::map<std::string, Perplexity>& p,
                 const std::vector<std::string>& domains) {
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

// A set that scores models: examples and the length they are cut to.
struct EvalSet {
  std::vector<Example> examples;
  int64_t seq_len = 0;
};

class Evaluator {
 public:
  Evaluator(const std::string& model_dir, const Preset& preset, int64_t evaluations, bool progress)
      : model_(load_gpt2(model_dir)), preset_(preset), bar_("evaluate", evaluations, progress) {}

  GPT2& model() { return *model_; }

  // Perplexity on each named set with these adapters active together.
  std::map<std::string, Perplexity> run(const std::vector<std::shared_ptr<LoraAdapter>>& adapters,
                                        const std::map<std::string, const EvalSet*>& sets) {
    for (auto& a : adapters) a->attach(*model_);
    PrecisionScope precision(preset_.adapter.precision);
    std::map<std::string, Perplexity> out;
    for (auto& [name, set] : sets)
      out[name] = evaluate_perplexity(*model_, set->examples, preset_.eval_batch, set->seq_len);
    for (auto& a : adapters) a->detach(*model_);
    bar_.update(++done_, fmt::format("{} adapter(s) active", adapters.size()));
    return out;
  }

  void finish() { bar_.finish(fmt::format("{} evaluations", done_)); }

 private:
  std::unique_ptr<GPT2> model_;
  const Preset& preset_;
  ProgressBar bar_;
  int64_t done_ = 0;
};

// A cut-short run cuts the weight search short too: --eval-limit examples per domain at most,
// --max-steps steps at most, so that the full-size path stays a quick check.
size_t validation_size(const ReproduceOptions& o) {
  return o.eval_limit > 0 ? std::min<size_t>(kValidationPerDomain, o.eval_limit)
                          : kValidationPerDomain;
}

int search_steps(const ReproduceOptions& o) {
  int full = WeightSearchOptions{}.steps;
  return o.max_steps > 0 ? static_cast<int>(std::min<int64_t>(full, o.max_steps)) : full;
}

class StudyEvaluation {
 public:
  StudyEvaluation(const ReproduceOptions& o, const Preset& p, const StudyChoices& c,
                  const std::vector<AdapterJob>& jobs, const std::string& model_dir,
                  const std::string& data_dir)
      : o_(o),
        choices_(c),
        jobs_(jobs),
        data_dir_(data_dir),
        tok_(load_tokenizer(model_dir)),
        eval_(model_dir, p,
              1 + count_models(jobs, o.compositions && !o.ablation ? o.composed.size() : 0),
              o.progress),
        length_(std::min(p.adapter.seq_len, eval_.model().config().n_positions)) {
    R_.domains = study_domains();
    R_.choices = c;
    R_.data_files = data_file_digests(data_dir_);
    for (const std::string& d : R_.domains) {
      test_[d] = {load(d, "test", length_), length_};
      if (!choices_.has(StudyChoice::eval_overlap)) continue;
      train_[d] = load(d, "train", length_);
      test_short_[d] = load(d, "test", kStudyTripleLength);
    }
    // An ablation's configurations are compared by their sums; its compositions would cost
    // each configuration and seed several times the evaluation.
    if (!o.compositions || o.ablation) return;
    std::map<std::string, std::vector<Example>> tests, validation;
    for (const std::string& d : R_.domains) {
      tests[d] = test_[d].examples;
      validation[d] = validation_slice(load(d, "train", length_), validation_size(o));
    }
    compositions_ =
        std::make_unique<CompositionStudy>(eval_.model(), tests, validation, p.lora.r, p.eval_batch,
                                           length_, search_steps(o), o.composed);
  }

  StudyResults run() {
    auto base = eval_.run({}, test_sets());
    for (const std::string& d : R_.domains) R_.base[d].values.push_back(base[d].value());
    for (int seed = 0; seed < o_.seeds; ++seed) run_seed(seed);
    R_.fit = least_squares(fit_x_, fit_y_);
    fit_x_.insert(fit_x_.end(), all_x_.begin(), all_x_.end());
    fit_y_.insert(fit_y_.end(), all_y_.begin(), all_y_.end());
    R_.fit_all = least_squares(fit_x_, fit_y_);
    if (compositions_)
      R_.compositions = std::make_shared<CompositionResults>(compositions_->results());
    eval_.finish();
    return R_;
  }

 private:
  using Ppl = std::map<std::string, Perplexity>;
  using Adapters = std::map<std::string, std::shared_ptr<LoraAdapter>>;  // by label

  // Evaluations: a single alone, a pair merged and summed, the triple merged and summed, and
  // with all three pairs the three variants; `composed` other compositions of each combination.
  static int64_t count_models(const std::vector<AdapterJob>& jobs, size_t composed) {
    int64_t n[4] = {0, 0, 0, 0};
    for (const AdapterJob& j : jobs) ++n[j.domains.size()];
    int64_t compositions = static_cast<int64_t>(composed) * (n[2] + n[3]);
    return n[1] + 2 * n[2] + 2 * n[3] + (n[2] == 3 * n[3] ? 3 * n[3] : 0) + compositions;
  }

  // A split of one domain; a test split cut to --eval-limit examples.
  std::vector<Example> load(const std::string& domain, const char* split, int64_t length) const {
    TextFormat layout;
    if (choices_.has(StudyChoice::aligned_labels)) layout.qa_layout = aligned_labels_layout(length);
    auto examples =
        load_qa_jsonl(fmt::format("{}/{}/{}.jsonl", data_dir_, domain, split), tok_, layout);
    bool cut = o_.eval_limit > 0 && std::string_view(split) == "test" &&
               static_cast<int64_t>(examples.size()) > o_.eval_limit;
    if (cut) examples.resize(static_cast<size_t>(o_.eval_limit));
    return examples;
  }

  // eval-overlap: the study's own scoring set of each combination for this seed.
  std::map<std::string, EvalSet> overlap_sets(int seed) const {
    std::map<std::string, EvalSet> out;
    if (!choices_.has(StudyChoice::eval_overlap)) return out;
    std::map<std::string, size_t> train_sizes, test_sizes;
    for (const std::string& d : R_.domains) {
      train_sizes[d] = train_.at(d).size();
      test_sizes[d] = test_short_.at(d).size();
    }
    uint64_t split_seed = kOverlapSeed + static_cast<uint64_t>(seed);
    for (const auto& pair : all_pairs()) {
      std::string label = domains_label(pair);
      for (const Pick& pick : overlap_selection(label, train_sizes, split_seed))
        out[label].examples.push_back(train_.at(pick.domain)[pick.index]);
      out[label].seq_len = length_;
    }
    for (const Pick& pick : overlap_selection("triple", test_sizes, split_seed))
      out["triple"].examples.push_back(test_short_.at(pick.domain)[pick.index]);
    out["triple"].seq_len = kStudyTripleLength;
    return out;
  }

  std::map<std::string, const EvalSet*> test_sets() const {
    std::map<std::string, const EvalSet*> out;
    for (auto& [d, set] : test_) out[d] = &set;
    return out;
  }

  // Each domain's test split, plus the study's set for `combination` when eval-overlap is on.
  std::map<std::string, const EvalSet*> sets_for(const std::string& combination) const {
    auto out = test_sets();
    auto found = overlap_.find(combination);
    if (found != overlap_.end()) out["@score"] = &found->second;
    return out;
  }

  // The figure a combination is scored by: the study's set, or the union of its test splits.
  static double score(const Ppl& p, const std::vector<std::string>& domains) {
    auto found = p.find("@score");
    return found != p.end() ? found->second.value() : union_ppl(p, domains);
  }

  // Every adapter of one seed, loaded once, with the evaluation-time study choices applied.
  Adapters load_adapters(int seed) {
    Adapters out;
    for (const AdapterJob& j : jobs_) {
      if (j.seed != seed) continue;
      auto a = LoraAdapter::load(j.job.out, eval_.model());
      // multiplyOut.py made the deltas of the singles and of the all-three merged run.
      apply_eval_choices(*a, choices_, /*from_multiply_out=*/j.domains.size() != 2);
      out[j.label()] = a;
    }
    return out;
  }

  void run_seed(int seed) {
    overlap_ = overlap_sets(seed);
    Adapters a = load_adapters(seed);
    for (const std::string& d : R_.domains) {
      if (!a.count(d)) continue;
      Ppl p = eval_.run({a[d]}, test_sets());
      for (const std::string& e : R_.domains) R_.singles[d][e].values.push_back(p[e].value());
    }
    std::vector<SimilarityReport> reports;
    for (const auto& pair : all_pairs())
      if (a.count(domains_label(pair))) reports.push_back(run_pair(seed, pair, a));
    if (a.count(domains_label(R_.domains))) run_triple(a, reports);
    if (seed == 0) {
      const LoraAdapter& first = *a.begin()->second;  // every adapter has the same shapes
      R_.random_cos =
          random_baseline(AdapterFactors::of(first), AdapterFactors::of(first), 8, kBaselineSeed);
    }
  }

  std::vector<std::vector<std::string>> all_pairs() const {
    const auto& d = R_.domains;
    return {{d[0], d[1]}, {d[0], d[2]}, {d[1], d[2]}};
  }

  PairResult& pair_result(const std::vector<std::string>& domains) {
    for (PairResult& p : R_.pairs)
      if (p.domains == domains) return p;
    R_.pairs.push_back({});
    R_.pairs.back().domains = domains;
    return R_.pairs.back();
  }

  // Scores other compositions of a combination as the combination itself is scored.
  CombinationScorer scorer(const std::string& combination,
                           const std::vector<std::string>& domains) {
    return [this, combination, domains](const std::vector<std::shared_ptr<LoraAdapter>>& x) {
      return score(eval_.run(x, sets_for(combination)), domains);
    };
  }

  SimilarityReport run_pair(int seed, const std::vector<std::string>& pair, Adapters& a) {
    PairResult& pr = pair_result(pair);
    std::string label = domains_label(pair);
    Ppl pm = eval_.run({a[label]}, sets_for(label));
    Ppl ps = eval_.run({a[pair[0]], a[pair[1]]}, sets_for(label));
    double m = score(pm, pair), s = score(ps, pair);
    for (const std::string& d : R_.domains) {
      pr.merged_by_domain[d].values.push_back(pm[d].value());
      pr.sum_by_domain[d].values.push_back(ps[d].value());
    }
    SimilarityReport sim = adapter_similarity(*a[pair[0]], *a[pair[1]]);
    if (seed == 0) R_.pair_similarity[label] = sim;
    if (compositions_)
      compositions_->add(pair, {a[pair[0]], a[pair[1]]}, m, s, scorer(label, pair));
    pr.ppl_merged.values.push_back(m);
    pr.ppl_sum.values.push_back(s);
    pr.change_pct.values.push_back(change_pct(s, m));
    pr.rms_cos.values.push_back(sim.rms_cosine);
    pr.mean_abs_cos.values.push_back(sim.mean_abs_cosine);
    pr.max_abs_cos.values.push_back(sim.max_abs_cosine);
    pr.param_cos.values.push_back(sim.param_cosine);
    fit_x_.push_back(sim.rms_cosine);
    fit_y_.push_back(change_pct(s, m));
    return sim;
  }

  // The triple: merged-data on all three against the sum of all singles, and the variants
  // (a pair's merged adapter plus the third single) when the pairs' merged runs exist.
  void run_triple(Adapters& a, const std::vector<SimilarityReport>& pair_reports) {
    const auto& d = R_.domains;
    R_.has_triple = true;
    R_.triple.domains = d;
    auto score_sets = sets_for("triple");
    double m = score(eval_.run({a[domains_label(d)]}, score_sets), d);
    double s = score(eval_.run({a[d[0]], a[d[1]], a[d[2]]}, score_sets), d);
    if (compositions_)
      compositions_->add(d, {a[d[0]], a[d[1]], a[d[2]]}, m, s, scorer("triple", d));
    std::vector<SimilarityReport> reports = pair_reports;
    if (reports.size() != 3) {  // --only triple: the pairs' cosines without their merged runs
      reports.clear();
      for (const auto& pair : all_pairs())
        reports.push_back(adapter_similarity(*a[pair[0]], *a[pair[1]]));
    }
    R_.triple.ppl_merged.values.push_back(m);
    R_.triple.ppl_sum.values.push_back(s);
    R_.triple.change_pct.values.push_back(change_pct(s, m));
    R_.triple.rms_cos.values.push_back(pooled_rms(reports));
    all_x_.push_back(pooled_rms(reports));
    all_y_.push_back(change_pct(s, m));
    if (R_.pairs.size() != 3) return;
    if (R_.variants.empty())
      for (const auto& pair : all_pairs()) R_.variants.push_back({pair, third(pair), {}, {}, {}});
    for (VariantResult& v : R_.variants) {
      auto merged = a[domains_label(v.merged)], single = a[v.single];
      double ppl = score(eval_.run({merged, single}, score_sets), d);
      double cos = adapter_similarity(*merged, *single).rms_cosine;
      v.ppl.values.push_back(ppl);
      v.change_pct.values.push_back(change_pct(ppl, m));
      v.rms_cos.values.push_back(cos);
      all_x_.push_back(cos);
      all_y_.push_back(change_pct(ppl, m));
    }
  }

  std::string third(const std::vector<std::string>& pair) const {
    for (const std::string& d : R_.domains)
      if (std::find(pair.begin(), pair.end(), d) == pair.end()) return d;
    return "";
  }

  const ReproduceOptions& o_;
  StudyChoices choices_;
  const std::vector<AdapterJob>& jobs_;
  std::string data_dir_;
  Tokenizer tok_;
  Evaluator eval_;
  int64_t length_;  // evaluation length: the preset's adapter length within the context
  // Each domain's test split; with eval-overlap also its train split and its test split at
  // the study's triple length, from which each seed's overlap_ sets are drawn.
  std::map<std::string, EvalSet> test_;
  std::map<std::string, std::vector<Example>> train_, test_short_;
  std::map<std::string, EvalSet> overlap_;
  std::unique_ptr<CompositionStudy> compositions_;
  StudyResults R_;
  std::vector<double> fit_x_, fit_y_, all_x_, all_y_;
};

}  // namespace

std::map<std::string, std::string> data_file_digests(const std::string& data_dir) {
  std::map<std::string, std::string> digests;
  for (const std::string& d : study_domains())
    for (const char* split : {"train", "test"})
      digests[fmt::format("{}/{}", d, split)] =
          file_digest(fmt::format("{}/{}/{}.jsonl", data_dir, d, split));
  return digests;
}

StudyResults evaluate_study(const ReproduceOptions& options, const Preset& preset,
                            const StudyChoices& choices, const std::vector<AdapterJob>& jobs,
                            const std::string& model_dir, const std::string& data_dir) {
  return StudyEvaluation(options, preset, choices, jobs, model_dir, data_dir).run();
}

}  // namespace ls
