// For parsers that read a file by path (kubeconfig, trace, scenario): the fuzz input written to a file of
// this process's own, under the temporary folder, rewritten for every input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <system_error>

#include <unistd.h>

namespace maestro::fuzz {

// The path of the file holding `data`; `suffix` (".yaml") where the reader goes by the name.
inline std::filesystem::path input_file(const std::uint8_t* data, std::size_t size,
                                        const std::string& suffix) {
  // Removed when the process ends normally (a crash leaves its input in libFuzzer's artifact anyway).
  static struct InputFiles {
    std::set<std::filesystem::path> paths;
    ~InputFiles() {
      std::error_code ignored;
      for (const auto& path : paths) std::filesystem::remove(path, ignored);
    }
  } files;
  const auto path =
      std::filesystem::temp_directory_path() / ("maestro-fuzz-" + std::to_string(::getpid()) + suffix);
  files.paths.insert(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace maestro::fuzz
