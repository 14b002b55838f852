// `maestro eval` end to end: the same scenario and seeds give byte-identical results.json; every output
// is written; bad input is a usage error (exit 2) that writes nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

int run(const std::string& arguments) {
  const std::string command = std::string(MAESTRO_BINARY_DIR) + "/maestro " + arguments + " --shared-dir " +
                              MAESTRO_SHARED_DIR + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class EvalCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("maestro-eval-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(EvalCommand, SameSeedsGiveIdenticalResults) {
  const std::string common =
      "eval --scenario worldcup --duration 900 --startup-seconds 30 --chaos --policy hpa --policy kpa "
      "--policy oracle --policy static --policy hpa:50:60 --seeds 2 --out ";
  ASSERT_EQ(run(common + (dir_ / "a").string() + " --threads 1"), 0);
  ASSERT_EQ(run(common + (dir_ / "b").string() + " --threads 3"), 0);  // the same, whatever the threads
  const auto first = read_file(dir_ / "a" / "results.json");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, read_file(dir_ / "b" / "results.json"));
  for (const auto* policy : {"hpa", "kpa", "oracle-schedule", "static", "hpa-t50-w60"})
    EXPECT_TRUE(fs::exists(dir_ / "a" / "timeseries" / (std::string(policy) + ".csv"))) << policy;
  EXPECT_TRUE(fs::exists(dir_ / "a" / "report.html"));
  // A different seed set gives different numbers.
  ASSERT_EQ(
      run("eval --scenario worldcup --duration 900 --startup-seconds 30 --chaos --policy hpa --policy kpa "
          "--policy oracle --policy static --policy hpa:50:60 --seeds 3 --out " +
          (dir_ / "c").string()),
      0);
  EXPECT_NE(first, read_file(dir_ / "c" / "results.json"));
}

TEST_F(EvalCommand, BadInputIsAUsageErrorAndWritesNothing) {
  EXPECT_EQ(run("eval --scenario no-such --policy hpa --out " + (dir_ / "x").string()), 2);
  EXPECT_EQ(run("eval --scenario steady --policy nonsense --out " + (dir_ / "x").string()), 2);
  EXPECT_EQ(run("eval --scenario steady --policy hpa --seeds 0 --out " + (dir_ / "x").string()), 2);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

}  // namespace
