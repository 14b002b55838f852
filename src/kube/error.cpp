#include "kube/error.hpp"

namespace maestro::kube {

std::string_view kube_error_kind_name(KubeErrorKind kind) {
  switch (kind) {
    case KubeErrorKind::kNotFound:
      return "not_found";
    case KubeErrorKind::kConflict:
      return "conflict";
    case KubeErrorKind::kGone:
      return "gone";
    case KubeErrorKind::kForbidden:
      return "forbidden";
    case KubeErrorKind::kUnauthorized:
      return "unauthorized";
    case KubeErrorKind::kInvalid:
      return "invalid";
    case KubeErrorKind::kServerError:
      return "server_error";
    case KubeErrorKind::kTimeout:
      return "timeout";
    case KubeErrorKind::kUnreachable:
      return "unreachable";
    case KubeErrorKind::kBadResponse:
      return "bad_response";
  }
  return "bad_response";
}

KubeErrorKind kind_for_status(long status) {
  switch (status) {
    case 401:
      return KubeErrorKind::kUnauthorized;
    case 403:
      return KubeErrorKind::kForbidden;
    case 404:
      return KubeErrorKind::kNotFound;
    case 409:
      return KubeErrorKind::kConflict;
    case 410:
      return KubeErrorKind::kGone;
    case 429:
      return KubeErrorKind::kServerError;
    default:
      return status >= 500   ? KubeErrorKind::kServerError
             : status >= 400 ? KubeErrorKind::kInvalid
                             : KubeErrorKind::kBadResponse;
  }
}

}  // namespace maestro::kube
