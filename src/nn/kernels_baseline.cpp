// The kernels of kernels.hpp for any x86-64 CPU (or whatever the build targets): compiled with the
// project's flags.
#include <cstddef>

#include "nn/kernels.hpp"

namespace maestro::nn::kernels {
namespace {
#include "nn/kernels_impl.hpp"

constinit const KernelSet kBaseline = make_kernel_set("baseline");
}  // namespace

const KernelSet& baseline() {
  return kBaseline;
}

}  // namespace maestro::nn::kernels
