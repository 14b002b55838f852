#include "net/secret_file.hpp"

#include <fstream>
#include <sstream>

namespace maestro::net {

Result<std::string> read_secret(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot read {}", file.string());
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return fail("cannot read {}", file.string());
  const std::string text = content.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return fail("{} is empty", file.string());
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

TokenFile::TokenFile(std::filesystem::path path, const base::Clock& clock, std::chrono::seconds refresh)
    : path_(std::move(path)), clock_(clock), refresh_(refresh) {}

Result<std::string> TokenFile::token() {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  if (cached_ && now - read_at_ < refresh_) return *cached_;
  cached_.reset();
  auto token = read_secret(path_);
  if (!token) return fail("token file: {}", token.error().message);
  cached_ = *token;
  read_at_ = now;
  return *token;
}

}  // namespace maestro::net
