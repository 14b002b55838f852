// What went wrong talking to the Kubernetes API, as distinct kinds a caller can act on: a 409 means re-read
// and retry, a 404 means the deployment is gone, a 410 means start the list again, a 403 means RBAC is
// missing.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace maestro::kube {

enum class KubeErrorKind {
  kNotFound,      // 404
  kConflict,      // 409: the resourceVersion sent is stale
  kGone,          // 410: a list continue token or resourceVersion expired
  kForbidden,     // 403: authenticated, but RBAC does not allow it
  kUnauthorized,  // 401, or no token could be read
  kInvalid,       // 400, 415, 422: the request was refused as malformed
  kServerError,   // 5xx and 429
  kTimeout,       // no answer within the timeout
  kUnreachable,   // could not connect, or TLS failed
  kBadResponse,   // an answer that is not the JSON it should be
};

// "not_found", "conflict", … — stable names for logs and metric labels.
std::string_view kube_error_kind_name(KubeErrorKind kind);

struct KubeError : Error {
  KubeErrorKind kind = KubeErrorKind::kBadResponse;
  int http_status = 0;  // 0 when no response arrived
  std::string reason;   // the Status object's reason ("Conflict", "NotFound", …), if any
};

template <typename T>
using KubeResult = std::expected<T, KubeError>;

// The error kind an HTTP status stands for (for statuses that are not success).
KubeErrorKind kind_for_status(long status);

}  // namespace maestro::kube
