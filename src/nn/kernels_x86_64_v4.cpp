// The kernels of kernels.hpp for x86-64-v4 CPUs (AVX-512 F, BW, CD, DQ, VL): this file alone is compiled with
// -march=x86-64-v4 (src/nn/CMakeLists.txt), and kernels.cpp calls into it only when the CPU has them. Its
// products run on 16-float vectors, twice the AVX2 set's, and it rounds exactly as that set does.
#include <cstddef>

#include "nn/kernels.hpp"

#if defined(__AVX512F__) && defined(__FMA__)
namespace maestro::nn::kernels {
namespace {
#include "nn/kernels_impl.hpp"
}  // namespace

// Declared in kernels.cpp, which asks for it only where this file is built for x86-64-v4.
extern const KernelSet kX86_64_v4;
constinit const KernelSet kX86_64_v4 = make_kernel_set("x86-64-v4");

}  // namespace maestro::nn::kernels
#endif
