#include "services/controller/lease_lock.hpp"

#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/json_fields.hpp"
#include "net/http_client.hpp"

namespace maestro::controller {

namespace {

using nlohmann::json;

kube::KubeError bad_response(const std::string& what, const std::string& detail) {
  return kube::KubeError{
      {fmt::format("{}: malformed response: {}", what, detail)}, kube::KubeErrorKind::kBadResponse, 0, ""};
}

json lease_json(const std::string& ns, const std::string& name, const std::string& resource_version,
                const LeaseRecord& record) {
  json metadata = {{"name", name}, {"namespace", ns}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", metadata},
          {"spec",
           {{"holderIdentity", record.holder_identity},
            {"leaseDurationSeconds", record.lease_duration_seconds},
            {"acquireTime", micro_time(record.acquire_time)},
            {"renewTime", micro_time(record.renew_time)},
            {"leaseTransitions", record.lease_transitions}}}};
}

// The record and resourceVersion of a Lease the API answered.
kube::KubeResult<std::pair<LeaseRecord, std::string>> parse_lease(const std::string& body,
                                                                  const std::string& what) {
  const json lease = json::parse(body, nullptr, false);
  if (!lease.is_object() || !lease.contains("metadata") || !lease["metadata"].is_object())
    return std::unexpected(bad_response(what, "not a Lease"));
  const json spec = lease.value("spec", json::object());
  if (!spec.is_object()) return std::unexpected(bad_response(what, "spec is not an object"));
  LeaseRecord record;
  const auto text = [&](const char* key) {
    return spec.contains(key) && spec[key].is_string() ? spec[key].get<std::string>() : std::string();
  };
  const auto integer = [&](const char* key) -> std::optional<int> {
    if (!spec.contains(key)) return 0;
    if (!spec[key].is_number_integer()) return std::nullopt;
    const auto value = spec[key].get<long long>();
    if (value < 0 || value > 1'000'000'000) return std::nullopt;
    return static_cast<int>(value);
  };
  record.holder_identity = text("holderIdentity");
  const auto duration = integer("leaseDurationSeconds");
  const auto transitions = integer("leaseTransitions");
  if (!duration || !transitions) return std::unexpected(bad_response(what, "a count is not an integer"));
  record.lease_duration_seconds = *duration;
  record.lease_transitions = *transitions;
  for (auto [key, field] :
       {std::pair{"acquireTime", &record.acquire_time}, {"renewTime", &record.renew_time}}) {
    if (text(key).empty()) continue;
    auto at = parse_micro_time(text(key));
    if (!at) return std::unexpected(bad_response(what, at.error().message));
    *field = *at;
  }
  return std::pair{record, base::json_string(lease["metadata"], "resourceVersion")};
}

}  // namespace

std::string micro_time(std::chrono::system_clock::time_point at) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000 - (micros % 1'000'000 < 0));
  const long long fraction = ((micros % 1'000'000) + 1'000'000) % 1'000'000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:06}Z", buffer, fraction);
}

Result<std::chrono::system_clock::time_point> parse_micro_time(const std::string& text) {
  std::tm utc{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  if (rest == nullptr) return fail("time {:?} is not RFC 3339", text);
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2262): a later year would overflow it.
  if (utc.tm_year + 1900 < 1970 || utc.tm_year + 1900 > 2200) return fail("time {:?} is out of range", text);
  long long micros = 0;
  if (*rest == '.') {
    int digits = 0;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, ++digits)
      if (digits < 6) micros = micros * 10 + (*rest - '0');
    if (digits == 0) return fail("time {:?} is not RFC 3339", text);
    for (; digits < 6; ++digits) micros *= 10;
  }
  long offset_seconds = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if ((*rest == '+' || *rest == '-') && std::strlen(rest) == 6 && rest[3] == ':') {
    const int sign = *rest == '-' ? -1 : 1;
    const int hours = std::atoi(std::string(rest + 1, 2).c_str());
    const int minutes = std::atoi(std::string(rest + 4, 2).c_str());
    offset_seconds = sign * (hours * 3600 + minutes * 60);
    rest += 6;
  }
  if (*rest != '\0') return fail("time {:?} is not RFC 3339", text);
  const std::time_t seconds = timegm(&utc) - offset_seconds;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds)) +
         std::chrono::microseconds(micros);
}

KubeLeaseLock::KubeLeaseLock(kube::KubeClient& kube, std::string namespace_, std::string name)
    : kube_(kube), namespace_(std::move(namespace_)), name_(std::move(name)) {}

namespace {
std::string leases_path(const std::string& ns) {
  return fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases", net::url_encode(ns));
}
}  // namespace

kube::KubeResult<LeaseRecord> KubeLeaseLock::get() {
  const std::string what = fmt::format("get lease {}/{}", namespace_, name_);
  auto response = kube_.http().get(leases_path(namespace_) + "/" + net::url_encode(name_));
  if (!response) return std::unexpected(kube::transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(kube::error_from_response(*response, what));
  auto lease = parse_lease(response->body, what);
  if (!lease) return std::unexpected(lease.error());
  resource_version_ = lease->second;
  return lease->first;
}

kube::KubeResult<void> KubeLeaseLock::create(const LeaseRecord& record) {
  const std::string what = fmt::format("create lease {}/{}", namespace_, name_);
  auto response = kube_.http().post(leases_path(namespace_), lease_json(namespace_, name_, "", record).dump(),
                                    "application/json");
  if (!response) return std::unexpected(kube::transport_error(response.error(), what));
  if (response->status != 201 && response->status != 200)
    return std::unexpected(kube::error_from_response(*response, what));
  auto lease = parse_lease(response->body, what);
  if (!lease) return std::unexpected(lease.error());
  resource_version_ = lease->second;
  return {};
}

kube::KubeResult<void> KubeLeaseLock::update(const LeaseRecord& record) {
  const std::string what = fmt::format("update lease {}/{}", namespace_, name_);
  auto response = kube_.http().send({.method = "PUT",
                                     .path = leases_path(namespace_) + "/" + net::url_encode(name_),
                                     .headers = {{"Content-Type", "application/json"}},
                                     .body = lease_json(namespace_, name_, resource_version_, record).dump(),
                                     .total_timeout = std::nullopt,
                                     .on_body = {},
                                     .keep_going = {}});
  if (!response) return std::unexpected(kube::transport_error(response.error(), what));
  if (response->status != 200) return std::unexpected(kube::error_from_response(*response, what));
  auto lease = parse_lease(response->body, what);
  if (!lease) return std::unexpected(lease.error());
  resource_version_ = lease->second;
  return {};
}

}  // namespace maestro::controller
