#include "nn/mlp.hpp"

#include <algorithm>
#include <cassert>
#include <type_traits>

#include "nn/kernels.hpp"

namespace maestro::nn {

int MlpShape::max_width() const {
  return *std::ranges::max_element(sizes);
}

std::size_t MlpShape::parameter_count() const {
  std::size_t count = 0;
  for (int l = 0; l < layer_count(); ++l) count += std::size_t(sizes[l + 1]) * (sizes[l] + 1);
  return count;
}

std::size_t MlpShape::weight_offset(int layer) const {
  std::size_t offset = 0;
  for (int l = 0; l < layer; ++l) offset += std::size_t(sizes[l + 1]) * (sizes[l] + 1);
  return offset;
}

Result<MlpShape> validate(const MlpShape& shape) {
  if (shape.sizes.size() < 2)
    return fail("a network needs an input and an output size, got {} sizes", shape.sizes.size());
  for (int size : shape.sizes)
    if (size < 1 || size > kMaxWidth) return fail("layer width {} is outside [1, {}]", size, kMaxWidth);
  return shape;
}

template <typename S>
void Mlp<S>::forward(std::span<const S> input, std::span<S> output, std::span<S> scratch) const {
  assert(input.size() == std::size_t(shape_.input_size()) &&
         output.size() == std::size_t(shape_.output_size()));
  assert(scratch.size() >= 2 * std::size_t(shape_.max_width()));
  using ConstVectorMap = Eigen::Map<const Vector>;
  S* buffers[2] = {scratch.data(), scratch.data() + shape_.max_width()};
  const S* x = input.data();
  const int last = shape_.layer_count() - 1;
  for (int l = 0; l <= last; ++l) {
    const int out = shape_.sizes[l + 1];
    S* y = l == last ? output.data() : buffers[l % 2];
    Eigen::Map<Vector> result(y, out);
    result.noalias() = weight(l) * ConstVectorMap(x, shape_.sizes[l]);
    result += bias(l);
    if (l != last) result = result.array().tanh();
    x = y;
  }
}

template <typename S>
void Mlp<S>::forward(const Eigen::Ref<const Matrix>& input, Cache& cache) const {
  assert(input.rows() == shape_.input_size());
  const int layers = shape_.layer_count();
  const int batch = static_cast<int>(input.cols());
  cache.outputs.resize(layers);
  for (int l = 0; l < layers; ++l) {
    Matrix& out = cache.outputs[l];
    const bool hidden = l != layers - 1;
    if constexpr (std::is_same_v<S, float>) {
      out.resize(shape_.sizes[l + 1], batch);
      const float* x = l == 0 ? input.data() : cache.outputs[l - 1].data();
      const std::ptrdiff_t x_stride = l == 0 ? input.outerStride() : batch;
      kernels::active().dense_forward(parameters_.data() + shape_.weight_offset(l),
                                      parameters_.data() + shape_.bias_offset(l), shape_.sizes[l + 1],
                                      shape_.sizes[l], x, x_stride, batch, out.data(), hidden);
    } else {
      if (l == 0)
        out.noalias() = weight(l) * input;
      else
        out.noalias() = weight(l) * cache.outputs[l - 1];
      out.colwise() += bias(l);
      if (hidden) out = out.array().tanh();
    }
  }
}

template <typename S>
void Mlp<S>::backward(const Eigen::Ref<const Matrix>& input, Cache& cache,
                      const Eigen::Ref<const Matrix>& output_grad, std::span<S> gradient) const {
  assert(gradient.size() == parameters_.size());
  const int layers = shape_.layer_count();
  const int batch = static_cast<int>(input.cols());
  cache.delta = output_grad;
  for (int l = layers - 1; l >= 0; --l) {
    const int out = shape_.sizes[l + 1], in = shape_.sizes[l];
    S* weight_grad = gradient.data() + shape_.weight_offset(l);
    S* bias_grad = gradient.data() + shape_.bias_offset(l);
    if constexpr (std::is_same_v<S, float>) {
      const kernels::KernelSet& k = kernels::active();
      const float* x = l == 0 ? input.data() : cache.outputs[l - 1].data();
      const std::ptrdiff_t x_stride = l == 0 ? input.outerStride() : batch;
      cache.scratch.resize(std::size_t(in) * batch);
      k.dense_weight_gradient(cache.delta.data(), out, batch, x, x_stride, in, weight_grad, bias_grad,
                              cache.scratch.data());
      if (l == 0) break;
      cache.delta_previous.resize(in, batch);
      k.dense_input_gradient(parameters_.data() + shape_.weight_offset(l), out, in, cache.delta.data(), batch,
                             cache.outputs[l - 1].data(), cache.delta_previous.data());
    } else {
      WeightMap weight_grad_map(weight_grad, out, in);
      if (l == 0)
        weight_grad_map.noalias() = cache.delta * input.transpose();
      else
        weight_grad_map.noalias() = cache.delta * cache.outputs[l - 1].transpose();
      BiasMap(bias_grad, out) = cache.delta.rowwise().sum();
      if (l == 0) break;
      // Through the tanh of layer l−1: d tanh(z)/dz = 1 − tanh(z)².
      const Matrix& previous = cache.outputs[l - 1];
      cache.delta_previous.noalias() = weight(l).transpose() * cache.delta;
      cache.delta_previous.array() *= (S(1) - previous.array().square());
    }
    std::swap(cache.delta, cache.delta_previous);
  }
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace maestro::nn
