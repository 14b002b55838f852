// A multilayer perceptron as Stable-Baselines3's MlpPolicy builds one from torch.nn.Linear layers: tanh
// after every hidden layer, a linear output layer. All parameters live in one flat array, layer by layer,
// each layer's weight [out × in] row-major (torch's layout) followed by its bias [out], so that gradients,
// Adam and the policy file work on one contiguous block.
//
// Two forward paths: one sample with caller-provided scratch (inference; allocates nothing), and a batch
// (one row per unit, samples as columns, row-major so that samples are contiguous) that keeps every layer's
// output so that backward() can compute the gradient of a loss with respect to all parameters. Templated on
// the scalar: float for speed (the batch paths run the kernels of kernels.hpp chosen for the CPU), double
// (Eigen) for finite-difference checks.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "base/error.hpp"

namespace maestro::nn {

// Layer widths from input to output, e.g. {5, 64, 64, 3}.
struct MlpShape {
  std::vector<int> sizes;

  int input_size() const { return sizes.front(); }
  int output_size() const { return sizes.back(); }
  int layer_count() const { return static_cast<int>(sizes.size()) - 1; }
  int max_width() const;
  std::size_t parameter_count() const;
  std::size_t weight_offset(int layer) const;
  std::size_t bias_offset(int layer) const {
    return weight_offset(layer) + std::size_t(sizes[layer + 1]) * sizes[layer];
  }

  friend bool operator==(const MlpShape&, const MlpShape&) = default;
};

// At least one layer, every width in [1, kMaxWidth].
inline constexpr int kMaxWidth = 1024;
Result<MlpShape> validate(const MlpShape& shape);

template <typename S>
class Mlp {
 public:
  using RowMajor = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Matrix = RowMajor;  // a batch: units × samples, one sample per column, samples contiguous
  using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using WeightMap = Eigen::Map<RowMajor>;
  using ConstWeightMap = Eigen::Map<const RowMajor>;
  using BiasMap = Eigen::Map<Vector>;
  using ConstBiasMap = Eigen::Map<const Vector>;

  // Layer outputs of a batch forward pass, and the buffers backward() works in (reused between calls).
  struct Cache {
    std::vector<Matrix> outputs;  // outputs[l]: after tanh for hidden layers, raw for the last
    Matrix delta, delta_previous;
    std::vector<S> scratch;  // for the kernels
  };

  Mlp() = default;
  explicit Mlp(MlpShape shape) : shape_(std::move(shape)), parameters_(shape_.parameter_count(), S(0)) {}

  const MlpShape& shape() const { return shape_; }
  std::span<S> parameters() { return parameters_; }
  std::span<const S> parameters() const { return parameters_; }

  WeightMap weight(int layer) {
    return WeightMap(parameters_.data() + shape_.weight_offset(layer), shape_.sizes[layer + 1],
                     shape_.sizes[layer]);
  }
  ConstWeightMap weight(int layer) const {
    return ConstWeightMap(parameters_.data() + shape_.weight_offset(layer), shape_.sizes[layer + 1],
                          shape_.sizes[layer]);
  }
  BiasMap bias(int layer) {
    return BiasMap(parameters_.data() + shape_.bias_offset(layer), shape_.sizes[layer + 1]);
  }
  ConstBiasMap bias(int layer) const {
    return ConstBiasMap(parameters_.data() + shape_.bias_offset(layer), shape_.sizes[layer + 1]);
  }

  // One sample: input (input_size) → output (output_size). `scratch` holds at least 2 × max_width scalars.
  void forward(std::span<const S> input, std::span<S> output, std::span<S> scratch) const;

  // A batch, input_size × B; the output is cache.outputs.back() (output_size × B).
  void forward(const Eigen::Ref<const Matrix>& input, Cache& cache) const;

  // With cache from forward(input), and output_grad = dLoss/dOutput (output_size × B), writes
  // dLoss/dParameters into `gradient` (parameter_count(), same layout as parameters()), overwriting it.
  void backward(const Eigen::Ref<const Matrix>& input, Cache& cache,
                const Eigen::Ref<const Matrix>& output_grad, std::span<S> gradient) const;

  template <typename T>
  Mlp<T> cast() const {
    Mlp<T> other(shape_);
    for (std::size_t i = 0; i < parameters_.size(); ++i)
      other.parameters()[i] = static_cast<T>(parameters_[i]);
    return other;
  }

 private:
  MlpShape shape_;
  std::vector<S> parameters_;
};

extern template class Mlp<float>;
extern template class Mlp<double>;

}  // namespace maestro::nn
