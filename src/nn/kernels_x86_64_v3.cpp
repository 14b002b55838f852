// The kernels of kernels.hpp for x86-64-v3 CPUs (AVX2, FMA): this file alone is compiled with
// -march=x86-64-v3 (src/nn/CMakeLists.txt), and kernels.cpp calls into it only when the CPU has both.
#include <cstddef>

#include "nn/kernels.hpp"

#if defined(__AVX2__) && defined(__FMA__)
namespace maestro::nn::kernels {
namespace {
#include "nn/kernels_impl.hpp"
}  // namespace

// Declared in kernels.cpp, which defines it as null where this file is not built for x86-64-v3.
extern const KernelSet kX86_64_v3;
constinit const KernelSet kX86_64_v3 = make_kernel_set("x86-64-v3");

}  // namespace maestro::nn::kernels
#endif
