#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "tensor/alloc.h"
#include "tensor/error.h"
#include "tensor/strided.h"

namespace ls {

namespace {
// 64-byte alignment suits AVX-512 loads and cache lines; sizes round up as aligned_alloc wants.
size_t buffer_bytes(int64_t numel) {
  size_t bytes = static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float);
  return (bytes + 63) / 64 * 64;
}
}  // namespace

Storage::Storage(int64_t n) : numel(n) { data = alloc_buffer(buffer_bytes(n)); }

Storage::~Storage() { free_buffer(data, buffer_bytes(numel)); }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t wrap_axis(int64_t axis, int64_t ndim) {
  int64_t a = axis < 0 ? axis + ndim : axis;
  LS_CHECK(a >= 0 && a < ndim, "axis {} out of range for {} dimensions", axis, ndim);
  return a;
}

Tensor Tensor::empty(const Shape& shape) {
  for (int64_t d : shape) LS_CHECK(d >= 0, "negative dimension in {}", shape_to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.0f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.0f); }

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor Tensor::from(const Shape& shape, const std::vector<float>& values) {
  LS_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()), "{} values for shape {}",
           values.size(), shape_to_string(shape));
  Tensor t = empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::scalar(float value) { return full({}, value); }

int64_t Tensor::size(int64_t d) const { return shape()[wrap_axis(d, dim())]; }
int64_t Tensor::numel() const { return shape_numel(shape()); }
std::string Tensor::shape_str() const { return shape_to_string(shape()); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape()[i] != 1 && strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

// Calls fn(offset) for every element in row-major order of a strided layout.
template <typename Fn>
static void for_each_offset(const Shape& shape, const Shape& strides, int64_t base, Fn fn) {
  int64_t n = shape_numel(shape);
  if (n == 0) return;
  std::vector<int64_t> index(shape.size(), 0);
  int64_t offset = base;
  for (int64_t i = 0; i < n; ++i) {
    fn(offset);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

std::vector<float> Tensor::to_vector() const {
  Tensor c = contiguous();
  return std::vector<float>(c.data(), c.data() + c.numel());
}

float Tensor::item() const {
  LS_CHECK(numel() == 1, "item() of a tensor with shape {}", shape_str());
  return to_vector()[0];
}

float& Tensor::at(std::initializer_list<int64_t> index) const {
  LS_CHECK(static_cast<int64_t>(index.size()) == dim(), "index rank {} for shape {}", index.size(),
           shape_str());
  int64_t offset = impl_->offset, d = 0;
  for (int64_t i : index) {
    LS_CHECK(i >= 0 && i < shape()[d], "index {} out of range in dim {} of {}", i, d, shape_str());
    offset += i * strides()[d++];
  }
  return impl_->storage->data[offset];
}

static Tensor make_view(const Tensor& t, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->offset = offset;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  return Tensor(std::move(impl));
}

Tensor Tensor::view(Shape shape) const {
  LS_CHECK(is_contiguous(), "view() of a non-contiguous tensor {}", shape_str());
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LS_CHECK(infer < 0, "more than one -1 in view shape");
      infer = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) shape[infer] = known ? numel() / known : 0;
  LS_CHECK(shape_numel(shape) == numel(), "cannot view {} as {}", shape_str(),
           shape_to_string(shape));
  Shape strides = contiguous_strides(shape);
  return make_view(*this, std::move(shape), std::move(strides), impl_->offset);
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
  std::vector<int64_t> order(dim());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_axis(a, dim())], order[wrap_axis(b, dim())]);
  return permute(order);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  LS_CHECK(static_cast<int64_t>(order.size()) == dim(), "permute order rank mismatch");
  Shape shape(dim()), strides(dim());
  std::vector<bool> seen(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t src = wrap_axis(order[i], dim());
    LS_CHECK(!seen[src], "permute repeats axis {}", src);
    seen[src] = true;
    shape[i] = impl_->shape[src];
    strides[i] = impl_->strides[src];
  }
  return make_view(*this, std::move(shape), std::move(strides), impl_->offset);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  d = wrap_axis(d, dim());
  LS_CHECK(0 <= start && start <= end && end <= shape()[d], "slice [{}, {}) of dim {} in {}", start,
           end, d, shape_str());
  Shape shape = impl_->shape;
  shape[d] = end - start;
  return make_view(*this, std::move(shape), impl_->strides, impl_->offset + start * strides()[d]);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = d < 0 ? d + dim() + 1 : d;
  LS_CHECK(d >= 0 && d <= dim(), "unsqueeze axis out of range");
  Shape shape = impl_->shape, strides = impl_->strides;
  int64_t stride = d < dim() ? strides[d] * shape[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(*this, std::move(shape), std::move(strides), impl_->offset);
}

Tensor Tensor::reshape(Shape shape) const { return contiguous().view(std::move(shape)); }

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape());
  out.copy_from(*this);
  return out;
}

void Tensor::copy_from(const Tensor& src) const {
  LS_CHECK(src.shape() == shape(), "copy_from {} into {}", src.shape_str(), shape_str());
  if (src.is_contiguous() && is_contiguous()) {
    std::memmove(data(), src.data(), numel() * sizeof(float));
    return;
  }
  // Views of one storage may overlap: read from a copy then.
  zip_tiles(*this, impl_->storage == src.impl()->storage ? src.clone() : src,
            [](float& d, float s) { d = s; });
}

void Tensor::fill(float value) const {
  float* base = impl_->storage->data;
  for_each_offset(shape(), strides(), impl_->offset, [&](int64_t o) { base[o] = value; });
}

Tensor& Tensor::set_requires_grad(bool on) {
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  return make_view(*this, impl_->shape, impl_->strides, impl_->offset);
}

}  // namespace ls
