// The body of the kernels of kernels.hpp, compiled once per instruction set: each kernels_<set>.cpp includes
// it inside an anonymous namespace of its own, with its own -m flags, and builds its KernelSet from
// make_kernel_set(). Everything here therefore has internal linkage, and it uses no Eigen and no standard
// library templates: an inline function emitted by the AVX2 file could otherwise be the copy the linker
// keeps for the baseline path. Written with GCC's vector extensions, so the compiler picks the instructions:
// 16-float vectors (one AVX-512 register) where the file is compiled for AVX-512, 8 (AVX) or 4 (SSE)
// otherwise, and FMA where the file allows contraction.
//
// Not a normal header: include it only from the kernels_<set>.cpp files, after <cstddef> and kernels.hpp.

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

// At most the AVX width, 8 floats: the sums along a batch (sum_along_batch, squared_norm) run at this width,
// so that the AVX-512 set adds in the AVX2 set's order and the two agree to the bit; so do the transpose and
// the column tails of the AVX-512 products.
constexpr int kNarrowLanes = kLanes < 8 ? kLanes : 8;
typedef float NarrowVec __attribute__((vector_size(kNarrowLanes * sizeof(float))));
typedef int NarrowLanes __attribute__((vector_size(kNarrowLanes * sizeof(int))));
typedef float HalfVec __attribute__((vector_size(kNarrowLanes / 2 * sizeof(float))));
typedef double DoubleVec __attribute__((vector_size(kNarrowLanes / 2 * sizeof(double))));

// The lanes of two NarrowVecs that constant indices pick (0 is a's first, kNarrowLanes b's first): GCC's
// builtin, or clang's, which scripts/fuzz builds with.
#if defined(__clang__)
#define MAESTRO_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define MAESTRO_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, NarrowLanes{__VA_ARGS__})
#endif

// x in every lane of a V (not V{} + x: 0 + x is not x for x = −0, so that costs an add per broadcast).
template <typename V>
[[gnu::always_inline]] inline V splat(float x) {
#if defined(__clang__)
  V v;
  for (int l = 0; l < int(sizeof(V) / sizeof(float)); ++l) v[l] = x;
  return v;
#else
  typedef int Index __attribute__((vector_size(sizeof(V))));
  return __builtin_shuffle(V{x}, Index{});
#endif
}
template <typename T>
[[gnu::always_inline]] inline T load_as(const float* p) {
  T value;
  __builtin_memcpy(&value, p, sizeof value);
  return value;
}
template <typename T>
[[gnu::always_inline]] inline void store(float* p, T value) {
  __builtin_memcpy(p, &value, sizeof value);
}

// a·b + c for a float or a vector, rounded once where the set has FMA, as the vector tiles round it. Written
// out for floats: GCC vectorises the scalar sums as in-order reductions, multiplying and adding apart, not
// alike for every instruction set; and it folds a float expression whose inputs it knows (tanh past its
// clamp) in two roundings. Either way floats would round unlike vectors, and the sets unlike each other.
template <typename T>
[[gnu::always_inline]] inline T multiply_add(T a, T b, T c) {
#if defined(__FMA__)
  if constexpr (sizeof(T) == sizeof(float)) return __builtin_fmaf(a, b, c);
#endif
  return a * b + c;
}

// tanh for a float or a Vec: Eigen 3.4's generic_fast_tanh_float (a 13/6 rational approximation within a
// few ulp, the clamp chosen so that the result saturates at ±1 with and without FMA), as the Eigen path
// computed it.
template <typename T>
[[gnu::always_inline]] inline T fast_tanh(T x) {
#if defined(__FMA__)
  const T clamp = T{} + 7.99881172180175781f;
#else
  const T clamp = T{} + 7.90531110763549805f;
#endif
  const T zero = T{};
  const T clamped = x < clamp ? (x > -clamp ? x : -clamp) : clamp;
  const T x2 = clamped * clamped;
  const auto c = [](float value) { return T{} + value; };
  T p = multiply_add(x2, c(-2.76076847742355e-16f), c(2.00018790482477e-13f));
  p = multiply_add(x2, p, c(-8.60467152213735e-11f));
  p = multiply_add(x2, p, c(5.12229709037114e-08f));
  p = multiply_add(x2, p, c(1.48572235717979e-05f));
  p = multiply_add(x2, p, c(6.37261928875436e-04f));
  p = multiply_add(x2, p, c(4.89352455891786e-03f));
  p = clamped * p;
  T q = multiply_add(x2, c(1.19825839466702e-06f), c(1.18534705686654e-04f));
  q = multiply_add(x2, q, c(2.26843463243900e-03f));
  q = multiply_add(x2, q, c(4.89352518554385e-03f));
  const T magnitude = x < zero ? -x : x;
  const T tiny = zero + 0.0004f;
  return magnitude < tiny ? clamped : p / q;
}

// C[r][c] = finish(init[r] + Σ_k A[r][k]·B[k][c]) for a tile of Rows rows and Vecs vectors V of columns
// starting at (row, col). A is read one element at a time (broadcast), at a + r·a_row + k·a_k, so it may be
// transposed; B is row-major (columns contiguous). `finish(value, row, col)` stores a float or a vector.
// Each element is one chain of FMAs in k from init, whatever the tile: so every tile shape and vector width
// rounds alike.
template <int Rows, int Vecs, typename V, typename Finish>
[[gnu::always_inline]] inline void gemm_tile(const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_k,
                                             int depth, const float* b, std::ptrdiff_t b_stride,
                                             const float* init, int row, int col, Finish& finish) {
  constexpr int lanes = sizeof(V) / sizeof(float);
  V acc[Rows][Vecs];
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < Vecs; ++v) acc[r][v] = splat<V>(init ? init[row + r] : 0.0f);
  const float* a_rows = a + row * a_row;
  const float* b_cols = b + col;
  for (int k = 0; k < depth; ++k) {
    V b_k[Vecs];
#pragma GCC unroll 8
    for (int v = 0; v < Vecs; ++v) b_k[v] = load_as<V>(b_cols + k * b_stride + v * lanes);
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
      const V a_rk = splat<V>(a_rows[r * a_row + k * a_k]);
#pragma GCC unroll 8
      for (int v = 0; v < Vecs; ++v) acc[r][v] += a_rk * b_k[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < Vecs; ++v) finish(acc[r][v], row + r, col + v * lanes);
}

// A tile is kTileRows rows × kTileVecs vectors, its accumulators most of the registers: 6 × 2 of AVX2's 16,
// 6 × 4 of AVX-512's 32 (a 64-wide minibatch in one tile), 4 × 2 on SSE (each vector two registers there).
constexpr int kTileRows = kLanes == 4 ? 4 : 6;
constexpr int kTileVecs = kLanes == 16 ? 4 : 2;

template <int Rows, typename Finish>
void gemm_rows(int cols, const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_k, int depth, const float* b,
               std::ptrdiff_t b_stride, const float* init, int row, Finish finish) {
  int col = 0;
  for (; col + kTileVecs * kLanes <= cols; col += kTileVecs * kLanes)
    gemm_tile<Rows, kTileVecs, Vec>(a, a_row, a_k, depth, b, b_stride, init, row, col, finish);
  for (; col + kLanes <= cols; col += kLanes)
    gemm_tile<Rows, 1, Vec>(a, a_row, a_k, depth, b, b_stride, init, row, col, finish);
  if constexpr (kNarrowLanes < kLanes)
    for (; col + kNarrowLanes <= cols; col += kNarrowLanes)
      gemm_tile<Rows, 1, NarrowVec>(a, a_row, a_k, depth, b, b_stride, init, row, col, finish);
  for (; col < cols; ++col)
    for (int r = row; r < row + Rows; ++r) {
      float sum = init ? init[r] : 0.0f;
      for (int k = 0; k < depth; ++k) sum = multiply_add(a[r * a_row + k * a_k], b[k * b_stride + col], sum);
      finish(sum, r, col);
    }
}

// The rows left over after the full tiles, fewer than Rows.
template <int Rows, typename Finish>
void gemm_remaining_rows(int remaining, int cols, const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_k,
                         int depth, const float* b, std::ptrdiff_t b_stride, const float* init, int row,
                         Finish finish) {
  if constexpr (Rows > 0) {
    if (remaining == Rows)
      gemm_rows<Rows>(cols, a, a_row, a_k, depth, b, b_stride, init, row, finish);
    else
      gemm_remaining_rows<Rows - 1>(remaining, cols, a, a_row, a_k, depth, b, b_stride, init, row, finish);
  }
}

// The whole product C = init + A·B, rows × cols, in tiles.
template <typename Finish>
void gemm(int rows, int cols, const float* a, std::ptrdiff_t a_row, std::ptrdiff_t a_k, int depth,
          const float* b, std::ptrdiff_t b_stride, const float* init, Finish finish) {
  int row = 0;
  for (; row + kTileRows <= rows; row += kTileRows)
    gemm_rows<kTileRows>(cols, a, a_row, a_k, depth, b, b_stride, init, row, finish);
  gemm_remaining_rows<kTileRows - 1>(rows - row, cols, a, a_row, a_k, depth, b, b_stride, init, row, finish);
}

float sum_lanes(NarrowVec v) {
  float sum = 0;
  for (int l = 0; l < kNarrowLanes; ++l) sum += v[l];
  return sum;
}

void dense_forward(const float* weight, const float* bias, int out, int in, const float* input,
                   std::ptrdiff_t input_stride, int batch, float* output, bool tanh) {
  if (tanh)
    gemm(out, batch, weight, in, 1, in, input, input_stride, bias,
         [=](auto value, int row, int col) { store(output + row * batch + col, fast_tanh(value)); });
  else
    gemm(out, batch, weight, in, 1, in, input, input_stride, bias,
         [=](auto value, int row, int col) { store(output + row * batch + col, value); });
}

// One sample, Vecs vectors V of outputs from output o: bias + Σ_i input[i]·weight_by_input[i][o…], a chain of
// `in` FMAs per vector with Vecs chains side by side (the accumulators stay in registers).
template <int Vecs, typename V>
[[gnu::always_inline]] inline void dense_outputs_one(const float* weight_by_input, const float* bias, int out,
                                                     int in, const float* input, int o, float* output) {
  constexpr int lanes = sizeof(V) / sizeof(float);
  V acc[Vecs];
#pragma GCC unroll 8
  for (int v = 0; v < Vecs; ++v) acc[v] = load_as<V>(bias + o + v * lanes);
  for (int i = 0; i < in; ++i) {
    const V x = splat<V>(input[i]);
#pragma GCC unroll 8
    for (int v = 0; v < Vecs; ++v) acc[v] += load_as<V>(weight_by_input + i * out + o + v * lanes) * x;
  }
#pragma GCC unroll 8
  for (int v = 0; v < Vecs; ++v) store(output + o + v * lanes, acc[v]);
}

// 64 outputs a pass (PPO's layer width) with AVX or AVX-512, 32 with SSE.
constexpr int kOneSampleVecs = kLanes == 16 ? 4 : 8;

void dense_forward_one(const float* weight_by_input, const float* bias, int out, int in, const float* input,
                       float* output, bool tanh) {
  int o = 0;
  for (; o + kOneSampleVecs * kLanes <= out; o += kOneSampleVecs * kLanes)
    dense_outputs_one<kOneSampleVecs, Vec>(weight_by_input, bias, out, in, input, o, output);
  for (; o + kLanes <= out; o += kLanes)
    dense_outputs_one<1, Vec>(weight_by_input, bias, out, in, input, o, output);
  if constexpr (kNarrowLanes < kLanes)
    for (; o + kNarrowLanes <= out; o += kNarrowLanes)
      dense_outputs_one<1, NarrowVec>(weight_by_input, bias, out, in, input, o, output);
  // The last outputs one at a time (a policy's few logits), in four partial sums to shorten the chain.
  for (; o < out; ++o) {
    float partial[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= in; i += 4)
      for (int j = 0; j < 4; ++j) partial[j] += input[i + j] * weight_by_input[(i + j) * out + o];
    for (; i < in; ++i) partial[0] += input[i] * weight_by_input[i * out + o];
    output[o] = bias[o] + ((partial[0] + partial[1]) + (partial[2] + partial[3]));
  }
  if (!tanh) return;
  o = 0;
  for (; o + kLanes <= out; o += kLanes) store(output + o, fast_tanh(load_as<Vec>(output + o)));
  if constexpr (kNarrowLanes < kLanes)
    for (; o + kNarrowLanes <= out; o += kNarrowLanes)
      store(output + o, fast_tanh(load_as<NarrowVec>(output + o)));
  for (; o < out; ++o) output[o] = fast_tanh(output[o]);
}

void dense_input_gradient(const float* weight, int out, int in, const float* delta, int batch,
                          const float* activation, float* input_delta) {
  // A = weightᵀ: row i, depth o at weight[o·in + i].
  gemm(in, batch, weight, 1, in, out, delta, batch, nullptr, [=](auto value, int row, int col) {
    using T = decltype(value);
    const T a = load_as<T>(activation + row * batch + col);
    store(input_delta + row * batch + col, value * ((T{} + 1.0f) - a * a));
  });
}

// transposed[c][r] = matrix[r][c] for rows × cols, in blocks of kNarrowLanes × kNarrowLanes transposed in
// registers.
void transpose(const float* matrix, std::ptrdiff_t stride, int rows, int cols, float* transposed) {
  const int row_end = rows - rows % kNarrowLanes, col_end = cols - cols % kNarrowLanes;
  for (int r0 = 0; r0 < row_end; r0 += kNarrowLanes)
    for (int c0 = 0; c0 < col_end; c0 += kNarrowLanes) {
      NarrowVec v[kNarrowLanes];
      for (int r = 0; r < kNarrowLanes; ++r) v[r] = load_as<NarrowVec>(matrix + (r0 + r) * stride + c0);
#if defined(__AVX__)
      // Interleave pairs of rows, then pairs of pairs, then the two 128-bit halves.
      NarrowVec t[8], u[8];
      for (int j = 0; j < 8; j += 2) {
        t[j] = MAESTRO_SHUFFLE(v[j], v[j + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[j + 1] = MAESTRO_SHUFFLE(v[j], v[j + 1], 2, 10, 3, 11, 6, 14, 7, 15);
      }
      for (int j = 0; j < 8; j += 4)
        for (int h = 0; h < 2; ++h) {
          u[j + 2 * h] = MAESTRO_SHUFFLE(t[j + h], t[j + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
          u[j + 2 * h + 1] = MAESTRO_SHUFFLE(t[j + h], t[j + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
      for (int j = 0; j < 4; ++j) {
        v[j] = MAESTRO_SHUFFLE(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[j + 4] = MAESTRO_SHUFFLE(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
      }
#else
      const NarrowVec t0 = MAESTRO_SHUFFLE(v[0], v[1], 0, 4, 1, 5),
                      t1 = MAESTRO_SHUFFLE(v[0], v[1], 2, 6, 3, 7);
      const NarrowVec t2 = MAESTRO_SHUFFLE(v[2], v[3], 0, 4, 1, 5),
                      t3 = MAESTRO_SHUFFLE(v[2], v[3], 2, 6, 3, 7);
      v[0] = MAESTRO_SHUFFLE(t0, t2, 0, 1, 4, 5);
      v[1] = MAESTRO_SHUFFLE(t0, t2, 2, 3, 6, 7);
      v[2] = MAESTRO_SHUFFLE(t1, t3, 0, 1, 4, 5);
      v[3] = MAESTRO_SHUFFLE(t1, t3, 2, 3, 6, 7);
#endif
      for (int c = 0; c < kNarrowLanes; ++c) store(transposed + (c0 + c) * rows + r0, v[c]);
    }
  for (int r = 0; r < rows; ++r)
    for (int c = r < row_end ? col_end : 0; c < cols; ++c) transposed[c * rows + r] = matrix[r * stride + c];
}

// The bias gradient, and the weight gradient of a layer with Summed (< kNarrowLanes) inputs, one output at a
// time along the batch: Summed + 1 accumulators, a compile-time count so that they stay in registers.
template <int Summed>
void sum_along_batch(const float* delta, int out, int batch, const float* input, std::ptrdiff_t input_stride,
                     float* weight_gradient, float* bias_gradient) {
  const int vector_end = batch - batch % kNarrowLanes;
  for (int o = 0; o < out; ++o) {
    const float* d = delta + o * batch;
    NarrowVec acc[Summed + 1];  // the inputs', then the bias's
#pragma GCC unroll 8
    for (int i = 0; i <= Summed; ++i) acc[i] = NarrowVec{};
    for (int b = 0; b < vector_end; b += kNarrowLanes) {
      const NarrowVec e = load_as<NarrowVec>(d + b);
      acc[Summed] += e;
#pragma GCC unroll 8
      for (int i = 0; i < Summed; ++i) acc[i] += e * load_as<NarrowVec>(input + i * input_stride + b);
    }
    float bias_sum = sum_lanes(acc[Summed]);
    for (int b = vector_end; b < batch; ++b) bias_sum += d[b];
    bias_gradient[o] = bias_sum;
#pragma GCC unroll 8
    for (int i = 0; i < Summed; ++i) {
      float sum = sum_lanes(acc[i]);
      for (int b = vector_end; b < batch; ++b) sum = multiply_add(d[b], input[i * input_stride + b], sum);
      weight_gradient[o * Summed + i] = sum;
    }
  }
}

// sum_along_batch<summed> for a run-time summed < Summed.
template <int Summed>
void sum_along_batch_below(int summed, const float* delta, int out, int batch, const float* input,
                           std::ptrdiff_t input_stride, float* weight_gradient, float* bias_gradient) {
  if constexpr (Summed > 0) {
    if (summed == Summed - 1)
      sum_along_batch<Summed - 1>(delta, out, batch, input, input_stride, weight_gradient, bias_gradient);
    else
      sum_along_batch_below<Summed - 1>(summed, delta, out, batch, input, input_stride, weight_gradient,
                                        bias_gradient);
  }
}

// weight_gradient = delta · inputᵀ: an ordinary product once the input is transposed (samples × inputs), so
// that the inputs are contiguous. Narrow inputs (the first layer's observation) are summed along the batch
// directly instead: they would leave the vector tiles empty.
void dense_weight_gradient(const float* delta, int out, int batch, const float* input,
                           std::ptrdiff_t input_stride, int in, float* weight_gradient, float* bias_gradient,
                           float* scratch) {
  const bool narrow = in < kNarrowLanes;
  if (!narrow) {
    transpose(input, input_stride, in, batch, scratch);
    gemm(out, in, delta, batch, 1, batch, scratch, in, nullptr,
         [=](auto value, int row, int col) { store(weight_gradient + row * in + col, value); });
  }
  sum_along_batch_below<kNarrowLanes>(narrow ? in : 0, delta, out, batch, input, input_stride,
                                      weight_gradient, bias_gradient);
}

// A plain loop: with -fno-math-errno the compiler vectorises the square root.
void adam_step(float* __restrict parameters, float* __restrict exp_avg, float* __restrict exp_avg_sq,
               const float* __restrict gradient, std::size_t size, const AdamScalars& s) {
  const float beta1 = s.beta1, one_minus_beta1 = s.one_minus_beta1, beta2 = s.beta2,
              one_minus_beta2 = s.one_minus_beta2, step_size = s.step_size,
              bias_correction2_sqrt = s.bias_correction2_sqrt, eps = s.eps;
  for (std::size_t i = 0; i < size; ++i) {
    const float g = gradient[i];
    const float m = exp_avg[i] * beta1 + g * one_minus_beta1;
    const float v = exp_avg_sq[i] * beta2 + g * g * one_minus_beta2;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    parameters[i] -= step_size * (m / (__builtin_sqrtf(v) / bias_correction2_sqrt + eps));
  }
}

double squared_norm(const float* values, std::size_t size) {
  constexpr std::size_t kHalf = kNarrowLanes / 2;
  DoubleVec acc0 = {}, acc1 = {};
  std::size_t i = 0;
  for (; i + 2 * kHalf <= size; i += 2 * kHalf) {
    const DoubleVec x0 = __builtin_convertvector(load_as<HalfVec>(values + i), DoubleVec);
    const DoubleVec x1 = __builtin_convertvector(load_as<HalfVec>(values + i + kHalf), DoubleVec);
    acc0 += x0 * x0;
    acc1 += x1 * x1;
  }
  const DoubleVec acc = acc0 + acc1;
  double sum = 0;
  for (std::size_t l = 0; l < kHalf; ++l) sum += acc[l];
  for (; i < size; ++i) sum += double(values[i]) * double(values[i]);
  return sum;
}

constexpr KernelSet make_kernel_set(const char* name) {
  return KernelSet{name,      dense_forward, dense_forward_one, dense_input_gradient, dense_weight_gradient,
                   adam_step, squared_norm};
}
