// Cluster configuration: kubeconfig contexts and credentials (inline and as files), in-cluster service
// accounts from an injected directory and environment, the rotating token file, base64.
#include "kube/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace maestro::kube {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("maestro-kube-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name) << content;
    return path_ / name;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(decode_base64("aGVsbG8=").value(), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8h").value(), "hello!");
  EXPECT_EQ(decode_base64("aGk=\n").value(), "hi");
  EXPECT_FALSE(decode_base64("abc").has_value());
  EXPECT_FALSE(decode_base64("!!!!").has_value());
}

TEST(Kubeconfig, UsesTheCurrentContextsClusterAndUser) {
  TempDir dir;
  dir.write("ca.crt", "CA");
  const auto path = dir.write("config", R"(
apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: prod-user, namespace: shop}
clusters:
- name: dev-cluster
  cluster: {server: "https://dev:6443", insecure-skip-tls-verify: true}
- name: prod-cluster
  cluster:
    server: https://prod.example:6443/
    certificate-authority: ca.crt
users:
- name: dev-user
  user: {token: dev-token}
- name: prod-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
)");
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, "https://prod.example:6443");
  EXPECT_EQ(config->default_namespace, "shop");
  EXPECT_EQ(config->tls.ca_file, (dir.path() / "ca.crt").string());
  EXPECT_EQ(config->tls.client_cert_pem, "CERT");
  EXPECT_EQ(config->tls.client_key_pem, "KEY");
  EXPECT_FALSE(config->tls.insecure_skip_verify);
  EXPECT_TRUE(config->token.empty());

  auto dev = load_kubeconfig(path, "dev");
  ASSERT_TRUE(dev.has_value()) << dev.error().message;
  EXPECT_EQ(dev->server, "https://dev:6443");
  EXPECT_EQ(dev->token, "dev-token");
  EXPECT_TRUE(dev->tls.insecure_skip_verify);
  EXPECT_EQ(dev->default_namespace, "default");
}

TEST(Kubeconfig, ReadsCertificateAuthorityDataAndTokenFiles) {
  TempDir dir;
  const auto path = dir.write("config", R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k", certificate-authority-data: UEVN}}]
users: [{name: u, user: {tokenFile: tokens/t, client-certificate: /abs/cert.pem, client-key: key.pem}}]
)");
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->tls.ca_pem, "PEM");
  EXPECT_EQ(config->token_file, dir.path() / "tokens/t");
  EXPECT_EQ(config->tls.client_cert_file, "/abs/cert.pem");
  EXPECT_EQ(config->tls.client_key_file, (dir.path() / "key.pem").string());
}

TEST(Kubeconfig, RefusesBrokenFilesWithAReason) {
  TempDir dir;
  const auto expect_error = [&](const std::string& yaml, const std::string& mention) {
    auto config = load_kubeconfig(dir.write("config", yaml));
    ASSERT_FALSE(config.has_value()) << yaml;
    EXPECT_NE(config.error().message.find(mention), std::string::npos) << config.error().message;
  };
  expect_error("clusters: []", "no current-context");
  expect_error("current-context: x\ncontexts: []", "context \"x\" not found");
  expect_error("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: []",
               "cluster \"k\"");
  expect_error(
      "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\nclusters: [{name: k, cluster: {}}]",
      "no server");
  expect_error(
      "current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
      "clusters: [{name: k, cluster: {server: x, certificate-authority-data: '***'}}]",
      "certificate-authority-data");
  expect_error("current-context: [", "kubeconfig");
  EXPECT_FALSE(load_kubeconfig(dir.path() / "missing").has_value());
}

TEST(InCluster, ReadsTheServiceAccountAndEnvironment) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CA");
  dir.write("namespace", "shop");
  InClusterSource source;
  source.service_account_dir = dir.path();
  source.getenv = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "KUBERNETES_SERVICE_HOST") return "10.96.0.1";
    if (std::string(name) == "KUBERNETES_SERVICE_PORT") return "443";
    return std::nullopt;
  };
  auto config = in_cluster_config(source);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->tls.ca_file, (dir.path() / "ca.crt").string());
  EXPECT_EQ(config->token_file, dir.path() / "token");
  EXPECT_EQ(config->default_namespace, "shop");

  source.getenv = [](const char* name) -> std::optional<std::string> {
    return std::string(name) == "KUBERNETES_SERVICE_HOST" ? std::optional<std::string>("fd00::1")
                                                          : std::optional<std::string>("6443");
  };
  EXPECT_EQ(in_cluster_config(source)->server, "https://[fd00::1]:6443");
}

TEST(InCluster, FailsOutsideAClusterOrWithoutTheServiceAccount) {
  TempDir dir;
  InClusterSource source;
  source.service_account_dir = dir.path();
  source.getenv = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_FALSE(in_cluster_config(source).has_value());
  source.getenv = [](const char*) -> std::optional<std::string> { return "1"; };
  auto missing = in_cluster_config(source);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("token"), std::string::npos);
}

TEST(HttpOptions, AttachTheClustersCredentials) {
  TempDir dir;
  const auto file = dir.write("token", "from-file");
  base::ManualClock clock;
  ClusterConfig config;
  config.server = "https://k:6443";
  config.token_file = file;
  config.tls.ca_file = "/ca";
  auto options = http_options(config, clock);
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->base_url, "https://k:6443");
  EXPECT_EQ(options->tls.ca_file, "/ca");
  ASSERT_TRUE(options->bearer_token);
  EXPECT_EQ(options->bearer_token().value(), "from-file");
  EXPECT_FALSE(http_options(ClusterConfig{}, clock).has_value());
}

}  // namespace
}  // namespace maestro::kube
