// Kubeconfig files (kube::load_kubeconfig, from a file as the controller and the CLI read them), and the
// base64 of their *-data fields. Paths a file names are read as it names them; none of the seeds names one
// that exists.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "input_file.hpp"
#include "kube/config.hpp"

using namespace maestro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const auto decoded = kube::decode_base64(std::string_view(reinterpret_cast<const char*>(data), size)))
    if (decoded->size() > size) std::abort();  // base64 never decodes to more than it is
  (void)kube::load_kubeconfig(fuzz::input_file(data, size, ".kubeconfig"));
  return 0;
}
