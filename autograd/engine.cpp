// Graph recording and the backward pass.
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "autograd/autograd.h"
#include "tensor/error.h"

namespace ls {

namespace {
thread_local bool recording = true;

// Nodes reachable from `root` ordered so every node comes after the nodes that consume it.
// Shared pointers keep each node alive while backward releases the tensors that own them.
using NodePtr = std::shared_ptr<Node>;
std::vector<NodePtr> reverse_topological(const NodePtr& root) {
  std::vector<NodePtr> order;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<NodePtr, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->edges.size()) {
      const NodePtr& child = node->edges[next++].node;
      if (child && seen.insert(child.get()).second) stack.push_back({child, 0});
      continue;
    }
    order.push_back(node);
    stack.pop_back();
  }
  return {order.rbegin(), order.rend()};
}

// True when nothing but this handle refers to g's data, so it may be written in place.
bool sole_owner(const Tensor& g) {
  return g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.is_contiguous() &&
         g.impl()->offset == 0;
}

void accumulate_leaf(TensorImpl* leaf, Tensor g) {
  LS_CHECK(g.shape() == leaf->shape, "gradient {} for a leaf of shape {}", g.shape_str(),
           shape_to_string(leaf->shape));
  if (!leaf->grad) {
    // Later accumulation happens in place, so the leaf needs a gradient of its own.
    leaf->grad = sole_owner(g) ? g.impl_ptr() : g.clone().impl_ptr();
    return;
  }
  ops::add_into(Tensor(leaf->grad), g);
}

// Adds g into the gradient collected so far for one node, in place when that is safe.
void accumulate(Tensor& sum, const Tensor& g) {
  if (sole_owner(sum))
    ops::add_into(sum, g);
  else
    sum = ops::add(sum, g);
}
}  // namespace

bool grad_enabled() { return recording; }
NoGradGuard::NoGradGuard() : previous_(recording) { recording = false; }
NoGradGuard::~NoGradGuard() { recording = previous_; }

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, Node::Backward backward) {
  if (!recording) return out;
  std::vector<bool> needs;
  std::vector<Edge> edges(inputs.size());
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    bool n = t.defined() && t.requires_grad();
    needs.push_back(n);
    any = any || n;
    if (!n) continue;
    if (t.impl()->grad_fn)
      edges[i].node = t.impl()->grad_fn;
    else
      edges[i].leaf = t.impl_ptr();
  }
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->shape = out.shape();
  node->edges = std::move(edges);
  node->needs_grad = std::move(needs);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

Tensor record_using_output(Tensor out, const char* name, std::vector<Tensor> inputs,
                           Node::BackwardFromOutput backward) {
  Tensor value = out.detach();  // out's data and shape, without the grad_fn that would own us
  auto with_value = [value, f = std::move(backward)](const Tensor& g, InputGrads& d) {
    f(value, g, d);
  };
  return record(std::move(out), name, std::move(inputs), std::move(with_value));
}

void backward(const Tensor& root, const Tensor& grad) {
  LS_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad");
  Tensor seed = grad.defined() ? grad : Tensor::ones(root.shape());
  LS_CHECK(grad.defined() || root.numel() == 1, "backward() without a gradient needs a scalar");
  if (!root.impl()->grad_fn) {
    accumulate_leaf(root.impl(), seed);
    return;
  }
  std::unordered_map<Node*, Tensor> grad_of{{root.impl()->grad_fn.get(), seed}};
  for (const NodePtr& node : reverse_topological(root.impl()->grad_fn)) {
    LS_CHECK(node->backward, "backward through a graph that was already released ({})", node->name);
    auto found = grad_of.find(node.get());
    if (found != grad_of.end()) {
      InputGrads grads(node->needs_grad);
      node->backward(found->second, grads);
      grad_of.erase(found);
      for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads.wants(i) || !grads.at(i).defined()) continue;
        Tensor g = std::move(grads[i]);  // the only handle left, unless the closure kept one
        const Edge& edge = node->edges[i];
        if (edge.leaf) {
          accumulate_leaf(edge.leaf.get(), std::move(g));
          continue;
        }
        auto [slot, fresh] = grad_of.try_emplace(edge.node.get(), g);
        if (!fresh) accumulate(slot->second, g);
      }
    }
    // Free the saved tensors as soon as this node is done.
    node->backward = nullptr;
    node->edges.clear();
  }
}

void print_graph(const Tensor& root, std::ostream& os) {
  if (!root.defined() || !root.impl()->grad_fn) {
    os << "no graph (a leaf or an untracked tensor)\n";
    return;
  }
  std::unordered_map<const Node*, size_t> node_number;
  std::vector<NodePtr> order = reverse_topological(root.impl()->grad_fn);
  for (const NodePtr& node : order) node_number.emplace(node.get(), node_number.size());
  std::unordered_map<const TensorImpl*, size_t> leaf_number;
  for (const NodePtr& node : order) {
    os << 'n' << node_number.at(node.get()) << ' ' << node->name << ' '
       << shape_to_string(node->shape);
    // backward() clears what it has run, so a released node has no edges left to show.
    if (!node->backward) os << " (released)";
    for (size_t i = 0; i < node->edges.size(); ++i) {
      const Edge& edge = node->edges[i];
      os << (i ? ", " : " <- ");
      if (edge.node) {
        os << 'n' << node_number.at(edge.node.get());
      } else if (edge.leaf) {
        size_t number = leaf_number.emplace(edge.leaf.get(), leaf_number.size()).first->second;
        os << "leaf" << number << ' ' << shape_to_string(edge.leaf->shape);
      } else {
        os << '-';
      }
    }
    os << '\n';
  }
}

}  // namespace ls
