// Secrets from files: trimmed, refused when empty, never echoed in an error; a token file re-read after its
// refresh period; and bearer-token authentication of a server's routes (401/503, probes and scrapes open).
#include "net/secret_file.hpp"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "net/bearer_auth.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace maestro::net {
namespace {

using namespace std::chrono_literals;

class SecretDir {
 public:
  SecretDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "maestro-secret-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~SecretDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

TEST(SecretFile, IsTrimmedAndAnEmptyOrMissingFileIsAnErrorThatNeverHoldsTheContent) {
  SecretDir dir;
  EXPECT_EQ(read_secret(dir.write("token", "  s3cret-value\n")).value(), "s3cret-value");
  auto empty = read_secret(dir.write("empty", " \n\t"));
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  auto missing = read_secret(dir.write("x", "") / "missing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);
}

TEST(TokenFile, ReReadsTheFileOnceTheRefreshPeriodHasPassed) {
  SecretDir dir;
  const auto path = dir.write("token", "first\n");
  base::ManualClock clock;
  TokenFile token(path, clock, 60s);
  EXPECT_EQ(token.token().value(), "first");
  dir.write("token", "second");
  clock.advance(59s);
  EXPECT_EQ(token.token().value(), "first") << "re-read before the refresh period";
  clock.advance(1s);
  EXPECT_EQ(token.token().value(), "second");
  std::filesystem::remove(path);
  clock.advance(60s);
  EXPECT_FALSE(token.token().has_value()) << "a vanished token file must not keep serving the old token";
  dir.write("token", "  ");
  EXPECT_FALSE(token.token().has_value());
}

// A server whose /work route counts its calls, guarded by the token in `dir`/token.
struct GuardedServer {
  explicit GuardedServer(const std::filesystem::path& token_file)
      : server(HttpServerOptions{.bearer_token = std::make_shared<TokenFile>(token_file, clock)}) {
    server.route("POST", "/work", [this](const HttpRequest&, HttpResponse& response) {
      ++calls;
      response.body = "{}";
    });
    port = server.listen("127.0.0.1:0").value();
    server.start();
  }
  Response send(const std::string& path, std::optional<std::string> token, bool post = true) {
    HttpClientOptions options;
    options.base_url = fmt::format("http://127.0.0.1:{}", port);
    options.retry.max_attempts = 1;
    if (token) options.bearer_token = [token] { return Result<std::string>(*token); };
    HttpClient client(options);
    auto response = post ? client.post(path, "{}") : client.get(path);
    EXPECT_TRUE(response.has_value());
    return response.value_or(Response{});
  }

  base::ManualClock clock;
  HttpServer server;
  std::uint16_t port = 0;
  std::atomic<int> calls{0};
};

TEST(BearerAuth, RoutesNeedTheTokenWhileProbesAndScrapesStayOpen) {
  SecretDir dir;
  GuardedServer guarded(dir.write("token", "right-token\n"));

  const auto without = guarded.send("/work", std::nullopt);
  EXPECT_EQ(without.status, 401);
  EXPECT_EQ(without.header("www-authenticate").value_or(""), R"(Bearer realm="maestro")");
  const auto wrong = guarded.send("/work", "wrong-token");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find("right-token"), std::string::npos);
  EXPECT_EQ(wrong.body.find("wrong-token"), std::string::npos);
  EXPECT_EQ(guarded.calls, 0) << "a refused request must not reach its handler";

  EXPECT_EQ(guarded.send("/work", "right-token").status, 200);
  EXPECT_EQ(guarded.calls, 1);
  for (const char* open : {"/healthz", "/readyz", "/metrics"})
    EXPECT_EQ(guarded.send(open, std::nullopt, false).status, 200) << open;
}

TEST(BearerAuth, ARotatedTokenIsTakenAfterTheRefreshAndAnUnreadableFileLetsNobodyIn) {
  SecretDir dir;
  const auto file = dir.write("token", "old");
  GuardedServer guarded(file);
  EXPECT_EQ(guarded.send("/work", "old").status, 200);
  dir.write("token", "new");
  guarded.clock.advance(TokenFile::kDefaultRefresh);
  EXPECT_EQ(guarded.send("/work", "old").status, 401);
  EXPECT_EQ(guarded.send("/work", "new").status, 200);

  std::filesystem::remove(file);
  guarded.clock.advance(TokenFile::kDefaultRefresh);
  EXPECT_EQ(guarded.send("/work", "new").status, 503);
  EXPECT_EQ(guarded.calls, 2);
}

}  // namespace
}  // namespace maestro::net
