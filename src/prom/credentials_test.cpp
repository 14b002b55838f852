#include "prom/credentials.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

namespace maestro::prom {
namespace {

TEST(RedactCredentials, HidesTheUserinfoOfEveryUrlInAText) {
  EXPECT_EQ(redact_credentials("http://u:p@h:9090/api?x=1"), "http://***@h:9090/api?x=1");
  EXPECT_EQ(redact_credentials("GET https://tok@h/x: refused; then http://a:b@c"),
            "GET https://***@h/x: refused; then http://***@c");
  EXPECT_EQ(redact_credentials("reason=\"http://u:p@h\" ok"), "reason=\"http://***@h\" ok");
  // An '@' after the authority (in the path or query) or outside any URL is not userinfo.
  EXPECT_EQ(redact_credentials("http://h/a@b?c=d@e mail@x"), "http://h/a@b?c=d@e mail@x");
  EXPECT_EQ(redact_credentials("no url here"), "no url here");
  EXPECT_EQ(redact_credentials("http://"), "http://");
  EXPECT_TRUE(refuse_credentials_in_url("http://127.0.0.1:9090", "URL").has_value());
  const auto refused = refuse_credentials_in_url("http://admin:hunter2@127.0.0.1:9090", "URL");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message.find("hunter2"), std::string::npos);
}

TEST(BasicAuthorization, EncodesTheFilesUserAndPassword) {
  const auto file = std::filesystem::temp_directory_path() / fmt::format("maestro-basic-{}", ::getpid());
  std::ofstream(file) << "Aladdin:open sesame\n";
  EXPECT_EQ(basic_authorization(file).value(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");  // RFC 7617's example
  std::ofstream(file) << "no-colon\n";
  EXPECT_FALSE(basic_authorization(file).has_value());
  std::filesystem::remove(file);
  EXPECT_FALSE(basic_authorization(file).has_value());
}

// Skipping TLS verification and sending credentials over plain http are allowed, but each is said.
TEST(TransportWarnings, SayWhenTlsIsNotVerifiedOrCredentialsGoOverPlainHttp) {
  net::HttpClientOptions verified;
  verified.base_url = "https://k:6443";
  verified.bearer_token = []() -> Result<std::string> { return std::string("t"); };
  EXPECT_TRUE(transport_warnings("kubernetes", verified).empty());
  net::HttpClientOptions insecure = verified;
  insecure.tls.insecure_skip_verify = true;
  const auto skipped = transport_warnings("kubernetes", insecure);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(
      skipped[0],
      "kubernetes https://k:6443: insecure-skip-tls-verify is set: the server's certificate is NOT verified");
  net::HttpClientOptions plain = verified;
  plain.base_url = "http://k:8080";
  ASSERT_EQ(transport_warnings("kubernetes", plain).size(), 1u);
  EXPECT_NE(transport_warnings("kubernetes", plain)[0].find("plain http"), std::string::npos);
  plain.bearer_token = nullptr;
  EXPECT_TRUE(transport_warnings("prometheus", plain).empty());
  EXPECT_EQ(transport_warnings("prometheus", plain, /*sends_authorization=*/true).size(), 1u);
}

}  // namespace
}  // namespace maestro::prom
