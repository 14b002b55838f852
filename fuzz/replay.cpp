// Without libFuzzer (any compiler, the default build): every fuzz target over its seed corpus,
// fuzz/corpus/NAME/, so that CI checks the seeds and the crashes turned into seeds on every run, under
// whatever sanitizers the build has. Each target's LLVMFuzzerTestOneInput is compiled as maestro_fuzz_NAME
// (fuzz/CMakeLists.txt).
//   fuzz_replay                      every target over its corpus
//   fuzz_replay TARGET [FILE...]     one target, over its corpus or the files given (a crash to reproduce)
// A finding aborts, as under libFuzzer; exit 2 on a bad argument or an empty corpus.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

// fuzz_targets.inc (generated): MAESTRO_FUZZ_TARGET(NAME) for each target.
#define MAESTRO_FUZZ_TARGET(name) extern "C" int maestro_fuzz_##name(const std::uint8_t*, std::size_t);
#include "fuzz_targets.inc"
#undef MAESTRO_FUZZ_TARGET

namespace {

namespace fs = std::filesystem;

struct Target {
  std::string_view name;
  int (*test_one_input)(const std::uint8_t*, std::size_t);
};

constexpr Target kTargets[] = {
#define MAESTRO_FUZZ_TARGET(name) Target{#name, maestro_fuzz_##name},
#include "fuzz_targets.inc"
#undef MAESTRO_FUZZ_TARGET
};

std::vector<fs::path> corpus_of(std::string_view target) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(MAESTRO_FUZZ_CORPUS_DIR) / target;
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

void replay(const Target& target, const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // A copy of exactly its size, so that a read past the input's end is a sanitizer finding, as in libFuzzer.
  const std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  target.test_one_input(input.data(), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  int replayed_targets = 0;
  for (const Target& target : kTargets) {
    if (!args.empty() && args[0] != target.name) continue;
    std::vector<fs::path> files =
        args.size() > 1 ? std::vector<fs::path>(args.begin() + 1, args.end()) : corpus_of(target.name);
    if (files.empty()) {
      std::fprintf(stderr, "fuzz_replay: no inputs for %.*s\n", static_cast<int>(target.name.size()),
                   target.name.data());
      return 2;
    }
    for (const auto& file : files) replay(target, file);
    std::printf("%-20.*s %zu inputs\n", static_cast<int>(target.name.size()), target.name.data(),
                files.size());
    ++replayed_targets;
  }
  if (replayed_targets == 0) {
    std::fprintf(stderr, "fuzz_replay: no target %s\n", argv[1]);
    return 2;
  }
  return 0;
}
