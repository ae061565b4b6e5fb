#include "lora/interference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lora/similarity.h"
#include "tensor/error.h"

namespace ls {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ΔW·h for every row h of x [n, in]: s·(x·Aᵀ)·Bᵀ, [n, out].
Tensor delta_rows(const LowRank& f, const Tensor& x) {
  Tensor down = Tensor::empty({x.size(0), f.rank()});
  ops::gemm(down, x, f.A.contiguous(), {.trans_b = true});
  Tensor up = Tensor::empty({x.size(0), f.out()});
  ops::gemm(up, down, f.B.contiguous(), {.trans_b = true, .alpha = f.scale});
  return up;
}

// log Σ exp(row), stable.
double log_sum_exp(const float* row, int64_t n) {
  double top = *std::max_element(row, row + n), sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(row[i]) - top);
  return top + std::log(sum);
}

}  // namespace

double OutputOverlap::cross_talk() const { return aa > 0.0 ? bb / aa : kNaN; }

double OutputOverlap::cosine() const {
  return aa > 0.0 && bb > 0.0 ? ab / std::sqrt(aa * bb) : kNaN;
}

OutputOverlap output_overlap(const LowRank& a, const LowRank& b, const Tensor& x,
                             const std::vector<uint8_t>& mask) {
  LS_CHECK(x.dim() == 2 && x.size(1) == a.in() && a.in() == b.in() && a.out() == b.out(),
           "output_overlap: inputs {} for deltas [{}, {}] and [{}, {}]", shape_to_string(x.shape()),
           a.out(), a.in(), b.out(), b.in());
  LS_CHECK(mask.empty() || static_cast<int64_t>(mask.size()) == x.size(0),
           "output_overlap: {} mask entries for {} rows", mask.size(), x.size(0));
  Tensor cx = x.contiguous();
  Tensor ua = delta_rows(a, cx), ub = delta_rows(b, cx);
  OutputOverlap o;
  const int64_t n = cx.size(0), out = a.out();
  for (int64_t row = 0; row < n; ++row) {
    if (!mask.empty() && !mask[row]) continue;
    const float *pa = ua.data() + row * out, *pb = ub.data() + row * out;
    for (int64_t k = 0; k < out; ++k)
      o.add({double(pa[k]) * pa[k], double(pb[k]) * pb[k], double(pa[k]) * pb[k]});
  }
  return o;
}

double KlTotal::mean() const { return tokens ? total / static_cast<double>(tokens) : kNaN; }

KlTotal token_kl(const Tensor& logits_p, const Tensor& logits_q,
                 const std::vector<int32_t>& targets, int32_t ignore_index) {
  LS_CHECK(logits_p.shape() == logits_q.shape(), "token_kl of logits {} and {}",
           shape_to_string(logits_p.shape()), shape_to_string(logits_q.shape()));
  const int64_t v = logits_p.size(-1), rows = logits_p.numel() / v;
  LS_CHECK(static_cast<int64_t>(targets.size()) == rows, "token_kl: {} targets for {} positions",
           targets.size(), rows);
  Tensor p = logits_p.contiguous(), q = logits_q.contiguous();
  KlTotal kl;
  for (int64_t row = 0; row < rows; ++row) {
    if (targets[row] == ignore_index) continue;
    const float *lp = p.data() + row * v, *lq = q.data() + row * v;
    double zp = log_sum_exp(lp, v), zq = log_sum_exp(lq, v), sum = 0.0;
    // KL = Σ p·(log p − log q), log p = lp − zp.
    for (int64_t i = 0; i < v; ++i)
      sum += std::exp(lp[i] - zp) * ((double(lp[i]) - zp) - (double(lq[i]) - zq));
    kl.total += std::max(0.0, sum);
    ++kl.tokens;
  }
  return kl;
}

double delta_norm(const AdapterFactors& a) {
  double sq = 0.0;
  for (auto& [module, f] : a.modules) sq += delta_inner(f, f);
  return std::sqrt(sq);
}

double relative_delta_norm(const AdapterFactors& a,
                           const std::map<std::string, double>& base_norms) {
  double sum = 0.0;
  for (auto& [module, f] : a.modules) {
    auto it = base_norms.find(module);
    if (it == base_norms.end() || !(it->second > 0.0))
      input_error("{}: module {} has no weight of nonzero norm in the base model", a.name, module);
    double r = std::sqrt(delta_inner(f, f)) / it->second;
    sum += r * r;
  }
  return a.modules.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(a.modules.size()));
}

NormBaseline norm_baseline(const AdapterFactors& a, const AdapterFactors& b) {
  double na = delta_norm(a), nb = delta_norm(b);
  double low = std::min(na, nb);
  return {na * nb, low > 0.0 ? std::max(na, nb) / low : kNaN};
}

double flat_cosine(const std::vector<Tensor>& x, const std::vector<Tensor>& y) {
  LS_CHECK(x.size() == y.size(), "flat_cosine of {} and {} tensors", x.size(), y.size());
  double xy = 0.0, xx = 0.0, yy = 0.0;
  for (size_t t = 0; t < x.size(); ++t) {
    LS_CHECK(x[t].numel() == y[t].numel(), "flat_cosine: tensor {} sizes differ", t);
    Tensor cx = x[t].contiguous(), cy = y[t].contiguous();
    for (int64_t i = 0; i < cx.numel(); ++i) {
      double u = cx.data()[i], v = cy.data()[i];
      xy += u * v, xx += u * u, yy += v * v;
    }
  }
  return xx > 0.0 && yy > 0.0 ? xy / std::sqrt(xx * yy) : kNaN;
}

}  // namespace ls
