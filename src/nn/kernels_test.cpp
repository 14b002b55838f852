// The kernels of every instruction set the CPU runs, against a double-precision reference and against each
// other, on the shapes PPO uses (64-wide layers, minibatch 64) and on ragged ones that exercise every tail.
#include "nn/kernels.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nn/adam.hpp"
#include "nn/mlp.hpp"
#include "nn/random.hpp"

namespace maestro::nn::kernels {
namespace {

std::vector<const KernelSet*> available_sets() {
  std::vector<const KernelSet*> sets = {&baseline()};
  for (const KernelSet* set : {x86_64_v3(), x86_64_v4()})
    if (set) sets.push_back(set);
  return sets;
}

std::vector<float> random_values(std::size_t n, Rng& rng, double scale = 1.0) {
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(rng.normal() * scale);
  return values;
}

// |ours − reference| within 1e-5 of the sum of the terms' magnitudes: float rounding, in any order.
void expect_close(float ours, double reference, double magnitude, const std::string& what) {
  EXPECT_LE(std::abs(ours - reference), 1e-5 * magnitude + 1e-30)
      << what << ": " << ours << " vs " << reference;
}

struct Shape {
  int out, in, batch;
};
const std::vector<Shape> kShapes = {{64, 64, 64}, {64, 4, 64}, {2, 64, 64},  {1, 64, 64}, {64, 64, 256},
                                    {5, 7, 13},   {3, 9, 1},   {67, 33, 70}, {1, 1, 3},   {64, 5, 2048}};

std::string name(const KernelSet& k, const Shape& s) {
  return std::string(k.name) + " " + std::to_string(s.out) + "×" + std::to_string(s.in) + " batch " +
         std::to_string(s.batch);
}

TEST(Kernels, TheBaselineSetIsAlwaysThere) {
  EXPECT_STREQ(baseline().name, "baseline");
  EXPECT_EQ(find("baseline"), &baseline());
  EXPECT_EQ(find("avx512"), nullptr);
  EXPECT_NE(find(active().name), nullptr);
}

// The batch kernel on every sample, and the one-sample kernel on the first.
TEST(Kernels, DenseForwardMatchesTheDoubleReference) {
  Rng rng(1);
  for (const KernelSet* k : available_sets())
    for (const Shape& s : kShapes)
      for (bool tanh : {false, true}) {
        const int stride = s.batch + 3;  // a strided input, as a block of a larger batch
        const auto weight = random_values(std::size_t(s.out) * s.in, rng, 0.3);
        const auto bias = random_values(s.out, rng);
        const auto input = random_values(std::size_t(s.in) * stride, rng);
        // tanh is 1-Lipschitz, and its approximation adds a few ulp.
        const auto expect_output = [&](float ours, int o, int b, const std::string& what) {
          double z = bias[o], magnitude = std::abs(bias[o]);
          for (int i = 0; i < s.in; ++i) {
            z += double(weight[o * s.in + i]) * input[i * stride + b];
            magnitude += std::abs(double(weight[o * s.in + i]) * input[i * stride + b]);
          }
          expect_close(ours, tanh ? std::tanh(z) : z, magnitude + (tanh ? 0.1 : 0), what);
        };
        std::vector<float> output(std::size_t(s.out) * s.batch);
        k->dense_forward(weight.data(), bias.data(), s.out, s.in, input.data(), stride, s.batch,
                         output.data(), tanh);
        for (int o = 0; o < s.out; ++o)
          for (int b = 0; b < s.batch; ++b) expect_output(output[o * s.batch + b], o, b, name(*k, s));

        std::vector<float> first_sample(s.in), weight_by_input(weight.size()), one_output(s.out);
        for (int i = 0; i < s.in; ++i) first_sample[i] = input[i * stride];
        for (int o = 0; o < s.out; ++o)
          for (int i = 0; i < s.in; ++i) weight_by_input[i * s.out + o] = weight[o * s.in + i];
        k->dense_forward_one(weight_by_input.data(), bias.data(), s.out, s.in, first_sample.data(),
                             one_output.data(), tanh);
        for (int o = 0; o < s.out; ++o) expect_output(one_output[o], o, 0, name(*k, s) + ", one sample");
      }
}

TEST(Kernels, TanhIsWithinAFewUlpOverTheWholeRange) {
  for (const KernelSet* k : available_sets()) {
    std::vector<float> x, y(2001);
    for (int i = -1000; i <= 1000; ++i) x.push_back(float(i) * 0.012f);  // −12 … 12, through the clamp
    x[1000] = 3e-4f;                                                     // the tiny branch
    const float one = 1, zero = 0;
    k->dense_forward(&one, &zero, 1, 1, x.data(), 2001, 2001, y.data(), true);
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_NEAR(y[i], std::tanh(double(x[i])), 4e-7) << k->name << " tanh(" << x[i] << ")";
      // Past the clamp, exactly ±1: in the vector tiles (−12) and in the scalar tail (12, the 2001st column).
      if (std::abs(x[i]) >= 8) {
        EXPECT_EQ(y[i], x[i] > 0 ? 1.0f : -1.0f) << k->name << " tanh(" << x[i] << ")";
      }
    }
  }
}

TEST(Kernels, BackwardProductsMatchTheDoubleReference) {
  Rng rng(2);
  for (const KernelSet* k : available_sets())
    for (const Shape& s : kShapes) {
      const int stride = s.batch + 5;
      const auto weight = random_values(std::size_t(s.out) * s.in, rng, 0.3);
      const auto delta = random_values(std::size_t(s.out) * s.batch, rng);
      auto activation = random_values(std::size_t(s.in) * s.batch, rng);
      for (float& a : activation) a = std::tanh(a);
      const auto input = random_values(std::size_t(s.in) * stride, rng);
      std::vector<float> input_delta(activation.size()), weight_gradient(weight.size()), bias_gradient(s.out),
          scratch(std::size_t(s.in) * s.batch);
      k->dense_input_gradient(weight.data(), s.out, s.in, delta.data(), s.batch, activation.data(),
                              input_delta.data());
      k->dense_weight_gradient(delta.data(), s.out, s.batch, input.data(), stride, s.in,
                               weight_gradient.data(), bias_gradient.data(), scratch.data());
      for (int i = 0; i < s.in; ++i)
        for (int b = 0; b < s.batch; ++b) {
          double sum = 0, magnitude = 0;
          for (int o = 0; o < s.out; ++o) {
            sum += double(weight[o * s.in + i]) * delta[o * s.batch + b];
            magnitude += std::abs(double(weight[o * s.in + i]) * delta[o * s.batch + b]);
          }
          const double a = activation[i * s.batch + b];
          expect_close(input_delta[i * s.batch + b], sum * (1 - a * a), magnitude,
                       name(*k, s) + " input delta");
        }
      for (int o = 0; o < s.out; ++o) {
        double bias_sum = 0, bias_magnitude = 0;
        for (int b = 0; b < s.batch; ++b) {
          bias_sum += delta[o * s.batch + b];
          bias_magnitude += std::abs(delta[o * s.batch + b]);
        }
        expect_close(bias_gradient[o], bias_sum, bias_magnitude, name(*k, s) + " bias gradient");
        for (int i = 0; i < s.in; ++i) {
          double sum = 0, magnitude = 0;
          for (int b = 0; b < s.batch; ++b) {
            sum += double(delta[o * s.batch + b]) * input[i * stride + b];
            magnitude += std::abs(double(delta[o * s.batch + b]) * input[i * stride + b]);
          }
          expect_close(weight_gradient[o * s.in + i], sum, magnitude, name(*k, s) + " weight gradient");
        }
      }
    }
}

TEST(Kernels, AdamAndTheNormMatchTheDoublePath) {
  for (const KernelSet* k : available_sets()) {
    Rng rng(3);  // the same steps on every set
    const KernelSet& previous = active();
    set_active(*k);
    const std::size_t n = 4547;  // not a multiple of any vector width
    auto parameters = random_values(n, rng);
    std::vector<double> parameters_double(parameters.begin(), parameters.end());
    Adam<float> adam(n, 1e-5);
    Adam<double> adam_double(n, 1e-5);
    for (int step = 0; step < 3; ++step) {
      const auto gradient = random_values(n, rng, 0.1);
      const std::vector<double> gradient_double(gradient.begin(), gradient.end());
      double reference = 0;
      for (double g : gradient_double) reference += g * g;
      EXPECT_NEAR(global_norm<float>({gradient}), std::sqrt(reference), 1e-12 * std::sqrt(reference))
          << k->name;
      adam.step(parameters, gradient, 3e-4);
      adam_double.step(parameters_double, gradient_double, 3e-4);
    }
    // Within lr·1e-3, besides the float parameter's own rounding at each of the 3 steps (half an ulp each).
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_NEAR(parameters[i], parameters_double[i],
                  3e-4 * 1e-3 + 3 * 0x1p-24 * std::abs(parameters_double[i]))
          << k->name << " parameter " << i;
    set_active(previous);
  }
}

// The float network (kernels) against the double one (Eigen), forward and backward.
TEST(Kernels, TheFloatNetworkAgreesWithTheDoubleOneOnEveryPath) {
  Rng rng(4);
  Mlp<double> reference(MlpShape{{5, 64, 64, 3}});
  for (double& p : reference.parameters()) p = rng.normal() * 0.2;
  const Mlp<float> network = reference.cast<float>();
  const Mlp<float>::Matrix input = Mlp<double>::Matrix::Random(5, 64).cast<float>();
  const Mlp<float>::Matrix output_grad = Mlp<double>::Matrix::Random(3, 64).cast<float>();
  Mlp<double>::Cache reference_cache;
  reference.forward(input.cast<double>(), reference_cache);
  std::vector<double> reference_gradient(reference.parameters().size());
  reference.backward(input.cast<double>(), reference_cache, output_grad.cast<double>(), reference_gradient);
  double scale = 0;
  for (double g : reference_gradient) scale = std::max(scale, std::abs(g));

  const KernelSet& previous = active();
  for (const KernelSet* k : available_sets()) {
    set_active(*k);
    Mlp<float>::Cache cache;
    network.forward(input, cache);
    std::vector<float> gradient(network.parameters().size());
    network.backward(input, cache, output_grad, gradient);
    EXPECT_LE((cache.outputs.back().cast<double>() - reference_cache.outputs.back()).cwiseAbs().maxCoeff(),
              1e-5)
        << k->name;
    for (std::size_t i = 0; i < gradient.size(); ++i)
      EXPECT_NEAR(gradient[i], reference_gradient[i], 1e-5 * scale) << k->name << " parameter " << i;
  }
  set_active(previous);
}

// Every output of every kernel on one shape, in one vector: the products, the tanh, Adam's step, the norm.
std::vector<float> every_output(const KernelSet& k, const Shape& s, std::uint64_t seed) {
  Rng rng(seed);
  const int stride = s.batch + 3;
  const auto weight = random_values(std::size_t(s.out) * s.in, rng, 0.3);
  const auto bias = random_values(s.out, rng);
  const auto input = random_values(std::size_t(s.in) * stride, rng);
  const auto delta = random_values(std::size_t(s.out) * s.batch, rng);
  auto activation = random_values(std::size_t(s.in) * s.batch, rng);
  for (float& a : activation) a = std::tanh(a);
  std::vector<float> forward(std::size_t(s.out) * s.batch), one(s.out), input_delta(activation.size()),
      weight_gradient(weight.size()), bias_gradient(s.out), scratch(std::size_t(s.in) * s.batch);
  k.dense_forward(weight.data(), bias.data(), s.out, s.in, input.data(), stride, s.batch, forward.data(),
                  true);
  k.dense_forward_one(weight.data(), bias.data(), s.out, s.in, input.data(), one.data(), true);
  k.dense_input_gradient(weight.data(), s.out, s.in, delta.data(), s.batch, activation.data(),
                         input_delta.data());
  k.dense_weight_gradient(delta.data(), s.out, s.batch, input.data(), stride, s.in, weight_gradient.data(),
                          bias_gradient.data(), scratch.data());
  auto parameters = weight;
  std::vector<float> exp_avg(weight.size(), 0.01f), exp_avg_sq(weight.size(), 1e-4f);
  k.adam_step(parameters.data(), exp_avg.data(), exp_avg_sq.data(), weight_gradient.data(), parameters.size(),
              {0.9f, 0.1f, 0.999f, 0.001f, 3e-4f, 0.0316f, 1e-5f});

  std::vector<float> all;
  for (const auto* part :
       {&forward, &one, &input_delta, &weight_gradient, &bias_gradient, &parameters, &exp_avg, &exp_avg_sq})
    all.insert(all.end(), part->begin(), part->end());
  all.push_back(static_cast<float>(k.squared_norm(weight_gradient.data(), weight_gradient.size())));
  return all;
}

// The AVX-512 set is the AVX2 set's arithmetic on wider vectors: the same bits out, on every shape and
// through every tail (16-wide tiles, 8-wide ones, single columns), so training is the same on both.
TEST(Kernels, TheX86_64V4SetGivesTheX86_64V3SetsBits) {
  const KernelSet* v3 = x86_64_v3();
  const KernelSet* v4 = x86_64_v4();
  if (!v3 || !v4) GTEST_SKIP() << "this CPU cannot run both the x86-64-v3 and the x86-64-v4 kernels";
  std::vector<Shape> shapes = kShapes;
  shapes.insert(shapes.end(), {{72, 64, 24}, {24, 72, 8}, {64, 64, 40}, {9, 16, 17}, {64, 12, 64}});
  std::uint64_t seed = 10;
  for (const Shape& s : shapes) {
    const auto ours = every_output(*v4, s, seed), theirs = every_output(*v3, s, seed);
    ++seed;
    ASSERT_EQ(ours.size(), theirs.size());
    for (std::size_t i = 0; i < ours.size(); ++i)
      ASSERT_EQ(std::memcmp(&ours[i], &theirs[i], sizeof(float)), 0)
          << name(*v4, s) << " output " << i << ": " << ours[i] << " vs " << theirs[i];
  }
}

}  // namespace
}  // namespace maestro::nn::kernels
