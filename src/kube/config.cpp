#include "kube/config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace maestro::kube {

namespace {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read {}", path.string());
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return fail("cannot read {}", path.string());
  return content.str();
}

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// A YAML node's string, or "" if absent.
std::string text_of(const YAML::Node& node, const char* key) {
  const YAML::Node child = node[key];
  return child && child.IsScalar() ? child.as<std::string>() : std::string();
}

// The `inner` map of the entry named `name` in a kubeconfig list (clusters, users, contexts).
std::optional<YAML::Node> named_entry(const YAML::Node& root, const char* list, const std::string& name,
                                      const char* inner) {
  const YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) return std::nullopt;
  for (const auto& entry : entries)
    if (text_of(entry, "name") == name) return entry[inner] ? entry[inner] : YAML::Node(YAML::NodeType::Map);
  return std::nullopt;
}

std::filesystem::path relative_to(const std::filesystem::path& base, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : base / p;
}

}  // namespace

Result<std::string> decode_base64(std::string_view encoded) {
  std::string clean;
  for (const char c : encoded)
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  if (clean.size() % 4 != 0) return fail("invalid base64: length {} is not a multiple of 4", clean.size());
  std::string decoded(clean.size() / 4 * 3, '\0');
  const int length =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                      reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (length < 0) return fail("invalid base64");
  // EVP_DecodeBlock counts padding as zero bytes.
  std::size_t padding = 0;
  for (auto it = clean.rbegin(); it != clean.rend() && *it == '=' && padding < 2; ++it) ++padding;
  decoded.resize(static_cast<std::size_t>(length) - padding);
  return decoded;
}

Result<ClusterConfig> in_cluster_config(const InClusterSource& source) {
  const auto getenv = source.getenv ? source.getenv : process_env;
  const auto host = getenv("KUBERNETES_SERVICE_HOST");
  const auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return fail("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  ClusterConfig config;
  // An IPv6 service address needs brackets in a URL.
  const bool ipv6 = host->find(':') != std::string::npos;
  config.server = fmt::format("https://{}{}{}:{}", ipv6 ? "[" : "", *host, ipv6 ? "]" : "", *port);
  config.token_file = source.service_account_dir / "token";
  if (auto token = read_file(config.token_file); !token)
    return fail("in-cluster: service-account token: {}", token.error().message);
  const auto ca = source.service_account_dir / "ca.crt";
  if (!std::filesystem::exists(ca)) return fail("in-cluster: CA certificate {} is missing", ca.string());
  config.tls.ca_file = ca.string();
  if (auto ns = read_file(source.service_account_dir / "namespace"); ns && !trimmed(*ns).empty())
    config.default_namespace = trimmed(*ns);
  return config;
}

Result<ClusterConfig> load_kubeconfig(const std::filesystem::path& path, const std::string& context_name) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& error) {
    return fail("kubeconfig {}: {}", path.string(), error.what());
  }
  const auto base = path.parent_path();
  try {
    const std::string current = context_name.empty() ? text_of(root, "current-context") : context_name;
    if (current.empty()) return fail("kubeconfig {}: no current-context and none given", path.string());
    const auto context = named_entry(root, "contexts", current, "context");
    if (!context) return fail("kubeconfig {}: context \"{}\" not found", path.string(), current);
    const std::string cluster_name = text_of(*context, "cluster");
    const auto cluster = named_entry(root, "clusters", cluster_name, "cluster");
    if (!cluster) return fail("kubeconfig {}: cluster \"{}\" not found", path.string(), cluster_name);

    ClusterConfig config;
    config.server = text_of(*cluster, "server");
    if (config.server.empty())
      return fail("kubeconfig {}: cluster \"{}\" has no server", path.string(), cluster_name);
    while (config.server.ends_with('/')) config.server.pop_back();
    if (const auto ns = text_of(*context, "namespace"); !ns.empty()) config.default_namespace = ns;

    if (const auto ca = text_of(*cluster, "certificate-authority"); !ca.empty())
      config.tls.ca_file = relative_to(base, ca).string();
    if (const auto data = text_of(*cluster, "certificate-authority-data"); !data.empty()) {
      auto pem = decode_base64(data);
      if (!pem)
        return fail("kubeconfig {}: certificate-authority-data: {}", path.string(), pem.error().message);
      config.tls.ca_pem = std::move(*pem);
    }
    if ((*cluster)["insecure-skip-tls-verify"])
      config.tls.insecure_skip_verify = (*cluster)["insecure-skip-tls-verify"].as<bool>();

    const std::string user_name = text_of(*context, "user");
    if (!user_name.empty()) {
      const auto user = named_entry(root, "users", user_name, "user");
      if (!user) return fail("kubeconfig {}: user \"{}\" not found", path.string(), user_name);
      config.token = text_of(*user, "token");
      if (const auto file = text_of(*user, "tokenFile"); !file.empty())
        config.token_file = relative_to(base, file);
      if (const auto cert = text_of(*user, "client-certificate"); !cert.empty())
        config.tls.client_cert_file = relative_to(base, cert).string();
      if (const auto key = text_of(*user, "client-key"); !key.empty())
        config.tls.client_key_file = relative_to(base, key).string();
      for (const auto& [field, target] : {std::pair{"client-certificate-data", &config.tls.client_cert_pem},
                                          std::pair{"client-key-data", &config.tls.client_key_pem}}) {
        if (const auto data = text_of(*user, field); !data.empty()) {
          auto pem = decode_base64(data);
          if (!pem) return fail("kubeconfig {}: {}: {}", path.string(), field, pem.error().message);
          *target = std::move(*pem);
        }
      }
    }
    return config;
  } catch (const YAML::Exception& error) {
    return fail("kubeconfig {}: {}", path.string(), error.what());
  }
}

Result<net::HttpClientOptions> http_options(const ClusterConfig& config, const base::Clock& clock) {
  if (config.server.empty()) return fail("cluster configuration has no server");
  net::HttpClientOptions options;
  options.base_url = config.server;
  options.tls = config.tls;
  options.user_agent = "maestro-controller";
  if (!config.token_file.empty()) {
    auto file = std::make_shared<net::TokenFile>(config.token_file, clock);
    options.bearer_token = [file] { return file->token(); };
  } else if (!config.token.empty()) {
    options.bearer_token = [token = config.token]() -> Result<std::string> { return token; };
  }
  return options;
}

}  // namespace maestro::kube
