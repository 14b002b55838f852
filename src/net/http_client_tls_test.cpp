// net::HttpClient over TLS against a cpp-httplib SSLServer on loopback, with certificates made for the test
// by the openssl command: the server is verified against a CA file or inline PEM, an unknown CA is refused
// unless verification is explicitly skipped, and a client certificate (file or inline) is presented when the
// server requires one.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/http_client.hpp"

namespace maestro::net {
namespace {

using namespace std::chrono_literals;

class Certificates {
 public:
  Certificates() {
    dir_ = std::filesystem::temp_directory_path() / ("maestro-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1\n";
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string d = dir_.string();
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    ok_ = run("openssl req -x509" + key + " -keyout " + d + "/ca.key -out " + d +
              "/ca.crt -days 1 -subj /CN=maestro-test-ca") &&
          run("openssl req -x509" + key + " -keyout " + d + "/other.key -out " + d +
              "/other.crt -days 1 -subj /CN=other-ca") &&
          issue("server", "/CN=127.0.0.1") && issue("client", "/CN=maestro-controller");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }

  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pem(const std::string& name) const {
    std::ifstream in(dir_ / name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static bool run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool issue(const std::string& name, const std::string& subject) {
    const std::string d = dir_.string();
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d + "/" +
               name + ".key -out " + d + "/" + name + ".csr -subj " + subject) &&
           run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.crt -CAkey " + d +
               "/ca.key -CAcreateserial -days 1 -out " + d + "/" + name + ".crt -extfile " + d + "/" + name +
               ".ext");
  }

  std::filesystem::path dir_;
  bool ok_ = false;
};

// An HTTPS server on 127.0.0.1:0; with `client_ca`, it requires a client certificate issued by it.
class TlsServer {
 public:
  TlsServer(const Certificates& certificates, bool require_client_certificate)
      : server_(certificates.path("server.crt").c_str(), certificates.path("server.key").c_str(),
                require_client_certificate ? certificates.path("ca.crt").c_str() : nullptr) {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("secure", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  }
  ~TlsServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
};

HttpClientOptions options_for(const std::string& url) {
  HttpClientOptions options;
  options.base_url = url;
  options.total_timeout = 5s;
  options.retry.max_attempts = 1;
  return options;
}

class HttpClientTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certificates_.ok()) GTEST_SKIP() << "the openssl command could not make test certificates";
  }
  Certificates certificates_;
};

TEST_F(HttpClientTls, VerifiesTheServerAgainstTheGivenCa) {
  TlsServer server(certificates_, false);
  auto with_file = options_for(server.url());
  with_file.tls.ca_file = certificates_.path("ca.crt");
  auto response = HttpClient(with_file).get("/hello");
  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->body, "secure");

  auto inline_pem = options_for(server.url());
  inline_pem.tls.ca_pem = certificates_.pem("ca.crt");
  auto inline_response = HttpClient(inline_pem).get("/hello");
  ASSERT_TRUE(inline_response.has_value()) << inline_response.error().message;
}

TEST_F(HttpClientTls, RefusesAServerItCannotVerifyUnlessTold) {
  TlsServer server(certificates_, false);
  auto wrong_ca = options_for(server.url());
  wrong_ca.tls.ca_file = certificates_.path("other.crt");
  auto refused = HttpClient(wrong_ca).get("/hello");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, HttpErrorKind::kTls) << refused.error().message;

  auto system_cas = options_for(server.url());
  EXPECT_FALSE(HttpClient(system_cas).get("/hello").has_value());

  auto insecure = options_for(server.url());
  insecure.tls.insecure_skip_verify = true;
  EXPECT_TRUE(HttpClient(insecure).get("/hello").has_value());
}

TEST_F(HttpClientTls, PresentsAClientCertificateWhenTheServerRequiresOne) {
  TlsServer server(certificates_, true);
  auto anonymous = options_for(server.url());
  anonymous.tls.ca_file = certificates_.path("ca.crt");
  EXPECT_FALSE(HttpClient(anonymous).get("/hello").has_value())
      << "the server let in a client without a certificate";

  auto files = anonymous;
  files.tls.client_cert_file = certificates_.path("client.crt");
  files.tls.client_key_file = certificates_.path("client.key");
  auto with_files = HttpClient(files).get("/hello");
  ASSERT_TRUE(with_files.has_value()) << with_files.error().message;
  EXPECT_EQ(with_files->body, "secure");

  auto inline_pem = anonymous;
  inline_pem.tls.client_cert_pem = certificates_.pem("client.crt");
  inline_pem.tls.client_key_pem = certificates_.pem("client.key");
  auto with_pem = HttpClient(inline_pem).get("/hello");
  ASSERT_TRUE(with_pem.has_value()) << with_pem.error().message;
}

}  // namespace
}  // namespace maestro::net
