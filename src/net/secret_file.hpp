// Secrets read from files — bearer tokens, basic-auth pairs — never from URLs or flags, where they end up in
// process listings and logs. An error names the file, never its content.
#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "base/error.hpp"

namespace maestro::net {

// The file's content without surrounding whitespace; an error if it cannot be read or holds only whitespace.
Result<std::string> read_secret(const std::filesystem::path& file);

// A bearer token read from a file, re-read once it is older than `refresh` (kubelet rewrites a projected
// service-account token before it expires; a mounted Secret changes in place). Thread-safe.
class TokenFile {
 public:
  static constexpr std::chrono::seconds kDefaultRefresh{60};

  TokenFile(std::filesystem::path path, const base::Clock& clock,
            std::chrono::seconds refresh = kDefaultRefresh);

  // The token; an error if the file cannot be read or is empty. A failed re-read keeps nothing stale: the
  // next call tries again.
  Result<std::string> token();

 private:
  std::filesystem::path path_;
  const base::Clock& clock_;
  std::chrono::seconds refresh_;
  std::mutex mutex_;
  std::optional<std::string> cached_;
  base::Clock::TimePoint read_at_{};
};

}  // namespace maestro::net
