#include "nn/kernels.hpp"

#include <atomic>
#include <cstdlib>

namespace maestro::nn::kernels {

#if defined(MAESTRO_KERNELS_X86_64_V3)
extern const KernelSet kX86_64_v3;  // kernels_x86_64_v3.cpp
#endif
#if defined(MAESTRO_KERNELS_X86_64_V4)
extern const KernelSet kX86_64_v4;  // kernels_x86_64_v4.cpp
#endif

const KernelSet* x86_64_v3() {
#if defined(MAESTRO_KERNELS_X86_64_V3)
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return supported ? &kX86_64_v3 : nullptr;
#else
  return nullptr;
#endif
}

const KernelSet* x86_64_v4() {
#if defined(MAESTRO_KERNELS_X86_64_V4)
  // What -march=x86-64-v4 lets the compiler use; libgcc also checks that the OS saves the AVX-512 state.
  static const bool supported = [] {
    __builtin_cpu_init();
    return x86_64_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return supported ? &kX86_64_v4 : nullptr;
#else
  return nullptr;
#endif
}

const KernelSet* find(std::string_view name) {
  if (name == baseline().name) return &baseline();
  for (const KernelSet* set : {x86_64_v3(), x86_64_v4()})
    if (set && name == set->name) return set;
  return nullptr;
}

namespace {
const KernelSet& best() {
  if (const char* forced = std::getenv("MAESTRO_CPU"))
    if (const KernelSet* named = find(forced)) return *named;
  if (const KernelSet* v4 = x86_64_v4()) return *v4;
  if (const KernelSet* v3 = x86_64_v3()) return *v3;
  return baseline();
}

std::atomic<const KernelSet*>& selected() {
  static std::atomic<const KernelSet*> kernels{&best()};
  return kernels;
}
}  // namespace

const KernelSet& active() {
  return *selected().load(std::memory_order_relaxed);
}

void set_active(const KernelSet& kernels) {
  selected().store(&kernels, std::memory_order_relaxed);
}

}  // namespace maestro::nn::kernels
