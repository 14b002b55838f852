#include "local/kube_path.hpp"

#include <cctype>
#include <vector>

namespace maestro::local {

namespace {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(separator, start), text.size());
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

KubePath parse_kube_path(std::string_view path) {
  std::vector<std::string> parts;
  for (auto& part : split(path, '/'))
    if (!part.empty()) parts.push_back(std::move(part));
  KubePath parsed;
  if (parts.size() == 1 && parts[0] == "version") {
    parsed.kind = KubePathKind::kVersion;
    return parsed;
  }
  std::size_t at = 0;
  if (!parts.empty() && parts[0] == "api") {
    if (parts.size() == 1) {
      parsed.kind = KubePathKind::kLegacyGroup;
      return parsed;
    }
    parsed.version = parts[1];
    at = 2;
  } else if (!parts.empty() && parts[0] == "apis") {
    if (parts.size() == 1) {
      parsed.kind = KubePathKind::kGroups;
      return parsed;
    }
    if (parts.size() == 2) return parsed;  // /apis/GROUP (the group's versions) is not served
    parsed.group = parts[1];
    parsed.version = parts[2];
    at = 3;
  } else {
    return parsed;
  }
  if (at == parts.size()) {
    parsed.kind = KubePathKind::kResourceList;
    return parsed;
  }
  if (parts[at] == "namespaces" && parts.size() >= at + 3) {
    parsed.namespace_ = parts[at + 1];
    at += 2;
  }
  const std::size_t left = parts.size() - at;
  if (left > 3) return parsed;
  parsed.resource = parts[at];
  if (left > 1) parsed.name = parts[at + 1];
  if (left > 2) parsed.subresource = parts[at + 2];
  parsed.kind = KubePathKind::kResource;
  return parsed;
}

std::string query_value(std::string_view query, std::string_view key) {
  for (const auto& pair : split(query, '&')) {
    const auto eq = pair.find('=');
    if (percent_decoded(pair.substr(0, eq)) == key)
      return eq == std::string::npos ? "" : percent_decoded(pair.substr(eq + 1));
  }
  return "";
}

bool LabelSelector::parse(std::string_view text, LabelSelector& out) {
  out.requirements_.clear();
  if (trim(text).empty()) return true;
  for (const auto& part : split(text, ',')) {
    Requirement requirement;
    const std::string term = trim(part);
    if (term.find('(') != std::string::npos || term.empty()) return false;
    if (const auto at = term.find("!="); at != std::string::npos) {
      requirement = {trim(term.substr(0, at)), Op::kNotEquals, trim(term.substr(at + 2))};
    } else if (const auto at2 = term.find("=="); at2 != std::string::npos) {
      requirement = {trim(term.substr(0, at2)), Op::kEquals, trim(term.substr(at2 + 2))};
    } else if (const auto at1 = term.find('='); at1 != std::string::npos) {
      requirement = {trim(term.substr(0, at1)), Op::kEquals, trim(term.substr(at1 + 1))};
    } else if (term.front() == '!') {
      requirement = {trim(term.substr(1)), Op::kNotExists, ""};
    } else {
      requirement = {term, Op::kExists, ""};
    }
    if (requirement.key.empty() || requirement.key.find(' ') != std::string::npos) return false;
    out.requirements_.push_back(std::move(requirement));
  }
  return true;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& requirement : requirements_) {
    const auto found = labels.find(requirement.key);
    const bool has = found != labels.end();
    switch (requirement.op) {
      case Op::kEquals:
        if (!has || found->second != requirement.value) return false;
        break;
      case Op::kNotEquals:
        if (has && found->second == requirement.value) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

}  // namespace maestro::local
