// Where the Kubernetes API is and how to authenticate to it: in-cluster (the pod's service account) or a
// kubeconfig file (its current context). The service-account token rotates, so it is re-read from its file
// at least every minute rather than read once.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "net/http_client.hpp"
#include "net/secret_file.hpp"

namespace maestro::kube {

struct ClusterConfig {
  std::string server;  // "https://10.0.0.1:443"
  net::TlsOptions tls;
  std::string token;                 // a fixed bearer token, or …
  std::filesystem::path token_file;  // … a file re-read every minute
  std::string default_namespace = "default";
};

// The paths and environment in-cluster configuration reads; injectable for tests.
struct InClusterSource {
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::function<std::optional<std::string>(const char*)> getenv;  // none: the process environment
};

// KUBERNETES_SERVICE_HOST/PORT, and token, ca.crt and namespace from the service-account directory.
Result<ClusterConfig> in_cluster_config(const InClusterSource& source = {});

// The current context of a kubeconfig file (or `context` if given): its cluster's server and CA
// (certificate-authority or -data, insecure-skip-tls-verify) and its user's credentials (token, tokenFile,
// client-certificate/-key or their -data). Relative paths are relative to the file's folder.
Result<ClusterConfig> load_kubeconfig(const std::filesystem::path& path, const std::string& context = "");

// HTTP client options for a cluster: its server, TLS and a bearer token provider (re-reading a token file
// through `clock`). The clock must outlive the client.
Result<net::HttpClientOptions> http_options(const ClusterConfig& config, const base::Clock& clock);

// Standard base64 (as in kubeconfig *-data fields); an error on invalid input.
Result<std::string> decode_base64(std::string_view encoded);

}  // namespace maestro::kube
