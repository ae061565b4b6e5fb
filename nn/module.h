#pragma once
// Module: a node in a tree of layers with hierarchical parameter names.
//
// Names join with '.', as in PyTorch, so a GPT-2 built from these modules has exactly the
// Hugging Face names (`h.3.attn.c_attn.weight`).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ls {

class Module {
 public:
  virtual ~Module() = default;

  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  // Every module in the tree (this one as ""), with its full name.
  std::vector<std::pair<std::string, Module*>> named_modules();
  // The parameter with this full name, or an undefined tensor.
  Tensor find_parameter(const std::string& name) const;

  void set_training(bool on);
  bool training() const { return training_; }
  // requires_grad on every parameter of this subtree.
  void set_requires_grad(bool on);

 protected:
  Tensor register_parameter(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  void collect_parameters(const std::string& prefix,
                          std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, Module*>>& out);

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = false;
};

}  // namespace ls
