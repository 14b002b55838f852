// The hot kernels of training and inference (a dense layer forward with tanh, for a batch and for one
// sample, its two backward products, Adam's step, a squared norm), compiled once per instruction set and
// chosen at run time: the baseline x86-64 set (SSE2) runs everywhere, the x86-64-v3 set (AVX2 + FMA) and the
// x86-64-v4 set (AVX-512) where the CPU has them. All compute the same function; the baseline set differs
// from the others in rounding only (FMA, summation order), far inside the conformance tolerance, and the
// x86-64-v4 set rounds exactly as the x86-64-v3 one (its results are the same bits, only sooner).
//
// The boundary carries raw float pointers and sizes, never Eigen types: Eigen's ABI differs between
// instruction sets. A batch matrix is row-major with one row per unit and one column per sample (samples
// contiguous, rows `stride` floats apart), which is the axis the kernels vectorise over; a weight is
// [out × in] row-major (torch's layout).
#pragma once

#include <cstddef>
#include <string_view>

namespace maestro::nn::kernels {

struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bias_correction2_sqrt, eps;
};

struct KernelSet {
  const char* name;  // "baseline", "x86-64-v3" or "x86-64-v4"

  // output[o][b] = f(bias[o] + Σ_i weight[o][i]·input[i][b]) for b < batch, f = tanh if `tanh` else
  // identity; `output` is out × batch with stride batch.
  void (*dense_forward)(const float* weight, const float* bias, int out, int in, const float* input,
                        std::ptrdiff_t input_stride, int batch, float* output, bool tanh);

  // dense_forward of one sample (what inference runs), with the weight transposed: output[o] = f(bias[o] +
  // Σ_i weight_by_input[i][o]·input[i]), weight_by_input in × out row-major, so that it vectorises along
  // the outputs.
  void (*dense_forward_one)(const float* weight_by_input, const float* bias, int out, int in,
                            const float* input, float* output, bool tanh);

  // Through a layer and the tanh before it: input_delta[i][b] = (Σ_o weight[o][i]·delta[o][b]) ·
  // (1 − activation[i][b]²), where activation = tanh(z) is that layer's input. delta is out × batch,
  // activation and input_delta in × batch, all with stride batch.
  void (*dense_input_gradient)(const float* weight, int out, int in, const float* delta, int batch,
                               const float* activation, float* input_delta);

  // weight_gradient[o][i] = Σ_b delta[o][b]·input[i][b], bias_gradient[o] = Σ_b delta[o][b]; delta is
  // out × batch with stride batch, input in × batch with stride input_stride. Overwrites both gradients;
  // `scratch` holds in × batch floats.
  void (*dense_weight_gradient)(const float* delta, int out, int batch, const float* input,
                                std::ptrdiff_t input_stride, int in, float* weight_gradient,
                                float* bias_gradient, float* scratch);

  // torch.optim.Adam's update of `size` parameters from their gradient, the moments updated in place:
  // m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², p −= step_size · m / (√v / bias_correction2_sqrt + eps).
  // The scalars are the caller's (torch computes them in double and rounds each to float).
  void (*adam_step)(float* parameters, float* exp_avg, float* exp_avg_sq, const float* gradient,
                    std::size_t size, const AdamScalars& scalars);

  // Σ values², accumulated in double.
  double (*squared_norm)(const float* values, std::size_t size);
};

// Runs everywhere.
const KernelSet& baseline();
// AVX2 + FMA; null when the CPU lacks them (or the build is not for x86-64).
const KernelSet* x86_64_v3();
// AVX-512 (F, BW, CD, DQ, VL) besides; null when the CPU or the OS lacks it.
const KernelSet* x86_64_v4();
// By name ("baseline", "x86-64-v3", "x86-64-v4"); null when unknown or not supported here.
const KernelSet* find(std::string_view name);

// What the networks use: at start-up the best set the CPU supports, or the one the environment variable
// MAESTRO_CPU names (MAESTRO_CPU=baseline forces the baseline path).
const KernelSet& active();
// Replaces the active set (for tests and benchmarks that compare paths in one process; not while another
// thread is computing).
void set_active(const KernelSet& kernels);

}  // namespace maestro::nn::kernels
