// Policy files (nn::decode, what the model server and `maestro eval` read). The harness rewrites the
// header's payload length and checksum to match the input, so that mutations reach the payload's decoder
// instead of stopping at the checksum. Invariant: an accepted file validates, and encodes to a file that
// decodes and encodes to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "nn/policy_file.hpp"

using namespace maestro;

namespace {

// The file format's checksum (docs/policy-file.md): FNV-1a 64 of the payload.
std::uint64_t fnv1a64(std::span<const std::uint8_t> bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const std::uint8_t byte : bytes) hash = (hash ^ byte) * 0x100000001b3ULL;
  return hash;
}

constexpr std::size_t kHeaderSize = 8 + 4 + 8 + 8;  // magic, version, payload length, checksum

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (bytes.size() >= kHeaderSize) {
    const std::uint64_t length = bytes.size() - kHeaderSize;
    const std::uint64_t checksum = fnv1a64(std::span(bytes).subspan(kHeaderSize));
    std::memcpy(bytes.data() + 12, &length, 8);
    std::memcpy(bytes.data() + 20, &checksum, 8);
  }
  const auto file = nn::decode(bytes);
  if (!file) return 0;
  if (!nn::validate(*file)) std::abort();
  const auto encoded = nn::encode(*file);
  const auto again = nn::decode(encoded);
  if (!again || nn::encode(*again) != encoded) std::abort();
  return 0;
}
