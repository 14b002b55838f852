// The policy file: bit-exact round trips, version 1 files still read as what they were, and every kind of
// damage refused with a message saying what.
#include "nn/policy_file.hpp"

#include <unistd.h>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace maestro::nn {
namespace {

using ::testing::HasSubstr;

PolicyFile trained_looking_policy(const core::ActionSet& actions = core::original_action_set()) {
  PolicyFile file = untrained_autoscaling_policy(
      core::FeatureSpec{core::FeatureSet::kOriginal, 256.0 * 1024 * 1024}, 42, actions);
  file.normalizer.update(std::vector<double>{150, 0.2, 2, 80, 40, 30, 0.7, 1, 300, 5}, 2);
  file.metadata = {"ppo",
                   "sim:diurnal",
                   123456,
                   42,
                   {{"n_steps", "2048"}, {"learning_rate", "0.0003"}},
                   "2026-11-27T18:00:00Z",
                   "cost",
                   {{"pods", 1}, {"slo", 12.5}, {"action", 0.1}},
                   {{"nasa-http-1995", 0, 2'419'200}, {"synthetic:diurnal", 0, 3015}}};
  return file;
}

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::path(::testing::TempDir()) /
         ("policy_file_test_" + std::to_string(::getpid()) + "_" + name);
}

std::string decode_error(const std::vector<std::uint8_t>& bytes) {
  auto decoded = decode(bytes);
  return decoded ? std::string("(accepted)") : decoded.error().message;
}

// Recomputes the header's checksum and length after editing the payload, so that the edit itself is what
// gets checked.
void reseal(std::vector<std::uint8_t>& bytes) {
  const std::uint64_t length = bytes.size() - 28;
  std::memcpy(bytes.data() + 12, &length, 8);
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 28; i < bytes.size(); ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  std::memcpy(bytes.data() + 20, &hash, 8);
}

std::vector<std::uint8_t> str_bytes(std::string_view text) {
  std::vector<std::uint8_t> bytes(4 + text.size());
  const auto size = static_cast<std::uint32_t>(text.size());
  std::memcpy(bytes.data(), &size, 4);
  std::memcpy(bytes.data() + 4, text.data(), text.size());
  return bytes;
}

// The version-1 encoding of `file` (an original-action policy): version 2's without the action set's name
// before the action names and without the reward and training data after the training time.
std::vector<std::uint8_t> encode_version_1(const PolicyFile& file) {
  auto bytes = encode(file);
  auto action_set = str_bytes(file.action_set);
  const auto names = str_bytes(file.action_names[0]);
  action_set.insert(action_set.end(), {3, 0, 0, 0});  // the name count
  action_set.insert(action_set.end(), names.begin(), names.end());
  const auto at = std::search(bytes.begin() + 28, bytes.end(), action_set.begin(), action_set.end());
  EXPECT_NE(at, bytes.end());
  bytes.erase(at, at + 4 + static_cast<std::ptrdiff_t>(file.action_set.size()));
  const auto trained_at = str_bytes(file.metadata.trained_at);
  const auto end = std::search(bytes.begin() + 28, bytes.end(), trained_at.begin(), trained_at.end());
  EXPECT_NE(end, bytes.end());
  bytes.erase(end + static_cast<std::ptrdiff_t>(trained_at.size()), bytes.end());
  const std::uint32_t version = 1;
  std::memcpy(bytes.data() + 8, &version, 4);
  reseal(bytes);
  return bytes;
}

TEST(PolicyFile, RoundTripIsBitExact) {
  const PolicyFile original = trained_looking_policy();
  const auto bytes = encode(original);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_TRUE(*decoded == original);
  EXPECT_EQ(encode(*decoded), bytes);

  const auto path = temp_path("round_trip");
  ASSERT_TRUE(write_policy_file(path, original).has_value());
  EXPECT_EQ(read_all(path), bytes);
  auto read = read_policy_file(path);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_TRUE(*read == original);
  EXPECT_EQ(read->metadata.hyperparameters[1].second, "0.0003");
  EXPECT_EQ(read->feature_spec()->memory_limit_bytes_per_pod, 256.0 * 1024 * 1024);
}

TEST(PolicyFile, Version2RecordsTheActionSetRewardAndTrainingData) {
  const PolicyFile multi = trained_looking_policy(core::multi_action_set());
  auto decoded = decode(encode(multi));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_TRUE(*decoded == multi);
  EXPECT_EQ(decoded->action_set, "multi");
  EXPECT_EQ(decoded->actions(), core::multi_action_set());
  EXPECT_EQ(decoded->network.shape().action_count, 8);
  EXPECT_EQ(decoded->metadata.reward, "cost");
  EXPECT_EQ(decoded->metadata.reward_weights[1], (std::pair<std::string, double>{"slo", 12.5}));
  ASSERT_EQ(decoded->metadata.training_data.size(), 2u);
  EXPECT_EQ(decoded->metadata.training_data[0], (DataWindow{"nasa-http-1995", 0, 2'419'200}));
  std::uint32_t version;
  std::memcpy(&version, encode(multi).data() + 8, 4);
  EXPECT_EQ(version, 2u);
}

TEST(PolicyFile, Version1FilesReadAsOriginalActionsOriginalRewardAndUnknownData) {
  PolicyFile expected = trained_looking_policy();
  const auto bytes = encode_version_1(expected);
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->action_set, "original");
  EXPECT_EQ(decoded->actions(), core::original_action_set());
  EXPECT_EQ(decoded->metadata.reward, "original");
  EXPECT_EQ(decoded->metadata.reward_weights,
            (std::vector<std::pair<std::string, double>>{{"replicas", 0.3}, {"latency", 0.7}}));
  EXPECT_TRUE(decoded->metadata.training_data.empty());
  expected.metadata.reward = decoded->metadata.reward;
  expected.metadata.reward_weights = decoded->metadata.reward_weights;
  expected.metadata.training_data.clear();
  EXPECT_TRUE(*decoded == expected);  // everything else as it was
  auto damaged = bytes;
  damaged.back() ^= 1;
  EXPECT_THAT(decode_error(damaged), HasSubstr("corrupt"));
}

TEST(PolicyFile, AnAutoscalingPolicysActionsAndRewardMustBeKnownAndAgree) {
  PolicyFile unknown_set = trained_looking_policy();
  unknown_set.action_set = "fancy";
  EXPECT_THAT(decode_error(encode(unknown_set)), HasSubstr("unknown action set 'fancy'"));
  PolicyFile wrong_names = trained_looking_policy(core::multi_action_set());
  wrong_names.action_names[0] = "-40%";
  EXPECT_THAT(decode_error(encode(wrong_names)), HasSubstr("action set 'multi' has the actions -50%"));
  PolicyFile unnamed = trained_looking_policy();
  unnamed.action_set.clear();
  EXPECT_THAT(decode_error(encode(unnamed)), HasSubstr("action set is not named"));
  PolicyFile reward = trained_looking_policy();
  reward.metadata.reward = "profit";
  EXPECT_THAT(decode_error(encode(reward)), HasSubstr("unknown reward 'profit'"));
  reward.metadata.reward = "cost";
  reward.metadata.reward_weights[0].second = -1;
  EXPECT_THAT(decode_error(encode(reward)), HasSubstr("reward weight pods (-1)"));
  PolicyFile window = trained_looking_policy();
  window.metadata.training_data[0].end_seconds = -5;
  EXPECT_THAT(decode_error(encode(window)), HasSubstr("training data window 'nasa-http-1995'"));
  EXPECT_FALSE(write_policy_file(temp_path("invalid_window"), window).has_value());
}

TEST(PolicyFile, RoundTripKeepsEveryFloatBitIncludingNegativeZeroAndSubnormals) {
  PolicyFile file = trained_looking_policy();
  file.network.actor.parameters()[0] = -0.0f;
  file.network.actor.parameters()[1] = std::numeric_limits<float>::denorm_min();
  file.network.critic.parameters()[2] = std::nextafter(1.0f, 2.0f);
  auto decoded = decode(encode(file));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(std::signbit(decoded->network.actor.parameters()[0]));
  EXPECT_EQ(decoded->network.actor.parameters()[1], std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(decoded->network.critic.parameters()[2], std::nextafter(1.0f, 2.0f));
}

TEST(PolicyFile, AnyFlippedPayloadByteIsRefusedAsCorrupt) {
  const auto bytes = encode(trained_looking_policy());
  for (std::size_t position = 28; position < bytes.size(); position += 97) {
    auto damaged = bytes;
    damaged[position] ^= 0x01;
    EXPECT_THAT(decode_error(damaged), HasSubstr("corrupt")) << "byte " << position;
  }
}

TEST(PolicyFile, DamagedHeaderIsRefusedWithTheReason) {
  const auto bytes = encode(trained_looking_policy());
  auto magic = bytes;
  magic[0] = 'X';
  EXPECT_THAT(decode_error(magic), HasSubstr("not a MAESTRO policy file"));
  auto checksum = bytes;
  checksum[25] ^= 0x80;
  EXPECT_THAT(decode_error(checksum), HasSubstr("corrupt"));
  auto length = bytes;
  length[12] ^= 0x01;  // payload length one off
  EXPECT_THAT(decode_error(length), HasSubstr("payload"));
}

TEST(PolicyFile, TruncatedFilesAreRefused) {
  const auto bytes = encode(trained_looking_policy());
  for (std::size_t size : {std::size_t(0), std::size_t(10), std::size_t(27), std::size_t(28),
                           bytes.size() / 2, bytes.size() - 1}) {
    const std::vector<std::uint8_t> truncated(bytes.begin(), bytes.begin() + size);
    const std::string error = decode_error(truncated);
    if (size < 8)
      EXPECT_THAT(error, HasSubstr("not a MAESTRO policy file")) << size;
    else
      EXPECT_THAT(error, HasSubstr("truncated")) << size;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THAT(decode_error(longer), HasSubstr("unexpected bytes"));
}

TEST(PolicyFile, AnotherFormatVersionIsRefused) {
  auto bytes = encode(trained_looking_policy());
  for (const std::uint32_t version : {0u, 3u}) {
    std::memcpy(bytes.data() + 8, &version, 4);
    EXPECT_THAT(decode_error(bytes),
                HasSubstr(fmt::format("format version {} is not supported (this build reads versions 1 to 2)",
                                      version)));
  }
}

TEST(PolicyFile, MismatchedContentsAreRefusedEvenWithAValidChecksum) {
  // Parameter count field of the actor (after obs, actions, activation, 2+2 hidden sizes, counts): 36 bytes
  // in.
  auto bytes = encode(trained_looking_policy());
  std::uint64_t count;
  std::memcpy(&count, bytes.data() + 28 + 36, 8);
  ASSERT_EQ(count, 5u * 64 + 64 + 64 * 64 + 64 + 64 * 3 + 3);
  count += 1;
  std::memcpy(bytes.data() + 28 + 36, &count, 8);
  reseal(bytes);
  EXPECT_THAT(decode_error(bytes), HasSubstr("actor has 4740 parameters but its architecture needs 4739"));

  PolicyFile nan = trained_looking_policy();
  nan.network.critic.parameters()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(decode_error(encode(nan)), HasSubstr("critic parameter 7 is not finite"));

  PolicyFile wrong_features = trained_looking_policy();
  Rng rng(1);
  wrong_features.network = initialise(ActorCriticShape{4, 3}, rng);
  wrong_features.normalizer = ObservationNormalizer(4, true);
  EXPECT_THAT(decode_error(encode(wrong_features)),
              HasSubstr("feature set 'original' has 5 features but the network takes 4"));

  PolicyFile wrong_actions = trained_looking_policy();
  wrong_actions.action_names = {"left", "hold", "right"};
  EXPECT_THAT(decode_error(encode(wrong_actions)), HasSubstr("scale_down, hold, scale_up"));
  EXPECT_FALSE(write_policy_file(temp_path("invalid"), wrong_actions).has_value());
}

TEST(PolicyFile, MissingFileIsReported) {
  auto read = read_policy_file(temp_path("does_not_exist"));
  ASSERT_FALSE(read.has_value());
  EXPECT_THAT(read.error().message, HasSubstr("cannot open"));
}

TEST(PolicyFile, ModelVersionIsTheHeaderChecksumAndChangesWithTheWeights) {
  PolicyFile file = trained_looking_policy();
  const auto bytes = encode(file);
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + 20, 8);
  EXPECT_EQ(model_version(file), fmt::format("{:016x}", stored));
  file.network.actor.parameters()[0] += 1e-3f;
  EXPECT_NE(model_version(file), fmt::format("{:016x}", stored));
}

}  // namespace
}  // namespace maestro::nn
