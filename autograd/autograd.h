#pragma once
// Reverse-mode automatic differentiation.
//
// Every ag:: function computes its result with the tensor kernels and, when gradients are on
// and some input requires them, records a Node holding an edge per input and a backward
// closure (micrograd's idea); the closure saves only the tensors its gradients need.
// backward(loss) orders the nodes topologically, runs the closures in reverse and accumulates
// `.grad` on leaf tensors that require it. A closure computes only the input gradients that
// are needed: a frozen weight costs no gradient GEMM and gets no `.grad`. After backward the
// graph's closures and saved tensors are released.
#include <functional>
#include <iosfwd>
#include <vector>

#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace ls {

// The gradients a backward closure produces, one slot per input. Slots of inputs that need no
// gradient are ignored, and closures skip computing them (wants(i) is false).
class InputGrads {
 public:
  explicit InputGrads(std::vector<bool> wanted)
      : wanted_(std::move(wanted)), values_(wanted_.size()) {}
  bool wants(size_t i) const { return wanted_[i]; }
  Tensor& operator[](size_t i) { return values_[i]; }
  const Tensor& at(size_t i) const { return values_[i]; }
  size_t size() const { return values_.size(); }

 private:
  std::vector<bool> wanted_;
  std::vector<Tensor> values_;
};

// Where the gradient of one input goes: the node that produced the input, or the leaf whose
// `.grad` it accumulates into; both empty when the input needs no gradient. A node keeps only
// these, not its input tensors, so an activation no backward closure saved is freed as soon
// as the forward pass is done with it.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
};

struct Node {
  using Backward = std::function<void(const Tensor& grad_out, InputGrads& grads)>;
  // A backward that needs the op's result `out` (exp, tanh, softmax): record_using_output.
  using BackwardFromOutput =
      std::function<void(const Tensor& out, const Tensor& grad_out, InputGrads& grads)>;
  const char* name = "";
  Shape shape;              // the output's, for print_graph
  std::vector<Edge> edges;  // one per input
  std::vector<bool> needs_grad;
  Backward backward;
};

// Gradient recording is on by default; NoGradGuard turns it off in its scope (evaluation).
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Attaches a node to `out` when any input requires grad and recording is on; returns out.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, Node::Backward backward);
// record for an op whose gradient is a function of its result. A closure must not capture
// `out` itself: out owns the node, which owns the closure, and the cycle would keep the graph
// alive forever. The node keeps out's data without its history and hands it to the closure.
Tensor record_using_output(Tensor out, const char* name, std::vector<Tensor> inputs,
                           Node::BackwardFromOutput backward);

// Back-propagates from a scalar (or from `root` with the given upstream gradient).
void backward(const Tensor& root, const Tensor& grad = Tensor());

// Writes the graph that produced `root`, one line per node from root to leaves: its number,
// op name, output shape and inputs (a node, a leaf numbered by first appearance, or "-" for an
// input that needs no gradient), e.g. "n1 add [2, 3] <- n2, leaf0 [2, 3]".
void print_graph(const Tensor& root, std::ostream& os);

namespace ag {

// Elementwise with broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, float s);
Tensor add_scalar(const Tensor& a, float s);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor gelu(const Tensor& x);

// Reductions.
Tensor sum(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor max(const Tensor& a, int64_t axis, bool keepdim = false);  // gradient to the first max
Tensor sum_all(const Tensor& a);
Tensor mean_all(const Tensor& a);

// Views (the result shares storage; the gradient is routed back through the view).
Tensor reshape(const Tensor& a, const Shape& shape);
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor permute(const Tensor& a, const std::vector<int64_t>& order);
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end);

// Linear algebra.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., in) times a weight, plus an optional bias. `weight` is [in, out] when
// in_out_layout (GPT-2's Conv1D) and [out, in] otherwise (nn.Linear).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, bool in_out_layout);

// Neural-net ops.
Tensor softmax(const Tensor& x, bool causal = false);
Tensor layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps);
Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape);
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets,
                     int32_t ignore_index = kIgnoreIndex);
// Inverted dropout: zeroes with probability p and scales survivors by 1/(1-p). Each call
// draws one key from rng; the mask is a hash of the key and the element index (ops::dropout)
// in the whole batch (see BatchShard).
Tensor dropout(const Tensor& x, float p, Rng& rng);

// Data parallelism: this process holds rows [first_row, first_row + rows) of a global batch.
// Every tensor dropout sees has the batch outermost, so an element's index in
// the global batch is its local index + first_row · (elements per row), and masks come out
// the same however the batch is split. The default is the whole batch.
struct BatchShard {
  int64_t first_row = 0, rows = 0;  // rows = 0: the whole batch
};
// While one lives, dropout on this thread (forward and backward) sees `shard`; its destructor
// restores the shard before it, so scopes nest and an exception cannot leave one set.
class BatchShardScope {
 public:
  explicit BatchShardScope(const BatchShard& shard);
  ~BatchShardScope();
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;

 private:
  BatchShard previous_;
};
// Fused kernels (see tensor/fused.h).
Tensor attention(const Tensor& qkv, int64_t n_head);
Tensor lm_head_loss(const Tensor& hidden, const Tensor& weight, const std::vector<int32_t>& targets,
                    int32_t ignore_index = kIgnoreIndex);

}  // namespace ag
}  // namespace ls
