#pragma once
// Tensor: an n-dimensional float32 array view over shared, 64-byte aligned storage.
//
// A Tensor is a cheap handle (shared_ptr to TensorImpl). Views (view, transpose, permute,
// slice) share storage and only change shape/strides/offset. The only dtype is float32; the
// gradient checker gets its accuracy from double accumulation of the probe loss instead of a
// float64 tensor type (see README).
//
// The autograd fields in TensorImpl (requires_grad, grad, grad_fn) belong to autograd/; the
// tensor library stores them but never reads them. Methods here never record a graph.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace ls {

using Shape = std::vector<int64_t>;

// Owns one aligned float buffer.
struct Storage {
  explicit Storage(int64_t numel);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data = nullptr;
  int64_t numel = 0;
};

struct Node;  // autograd graph node, defined in autograd/

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  Shape shape;
  Shape strides;
  // autograd state
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor, if recorded
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Creation (contiguous).
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor from(const Shape& shape, const std::vector<float>& values);
  static Tensor scalar(float value);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  bool is_contiguous() const;
  std::string shape_str() const;

  float* data() const { return impl_->storage->data + impl_->offset; }
  std::vector<float> to_vector() const;  // row-major copy
  float item() const;                    // the single element of a one-element tensor
  float& at(std::initializer_list<int64_t> index) const;

  // Views sharing storage.
  Tensor view(Shape shape) const;  // contiguous only; one dimension may be -1
  Tensor transpose(int64_t a, int64_t b) const;
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;
  Tensor unsqueeze(int64_t dim) const;
  // Copies when needed.
  Tensor reshape(Shape shape) const;
  Tensor contiguous() const;
  Tensor clone() const;
  void copy_from(const Tensor& src) const;  // same shape, any strides
  void fill(float value) const;

  // Autograd state (meaningful to autograd/).
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& set_requires_grad(bool on);
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void zero_grad() const { impl_->grad.reset(); }
  // A new handle to the same data with no autograd history.
  Tensor detach() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_to_string(const Shape& shape);
// Normalises a possibly negative axis for a tensor of `ndim` dimensions.
int64_t wrap_axis(int64_t axis, int64_t ndim);

}  // namespace ls
