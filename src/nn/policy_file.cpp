#include "nn/policy_file.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/reward.hpp"

namespace maestro::nn {

static_assert(std::endian::native == std::endian::little,
              "the policy file is little-endian, as is this host");

namespace {

constexpr std::string_view kMagic = "MAESTROP";
constexpr std::size_t kHeaderSize = 8 + 4 + 8 + 8;  // magic, version, payload length, checksum
constexpr std::uint32_t kTanh = 1;
constexpr std::uint32_t kMaxHiddenLayers = 16;
constexpr std::uint32_t kMaxStringBytes = 1 << 20;
constexpr std::uint32_t kMaxEntries = 4096;

std::uint64_t fnv1a64(std::span<const std::uint8_t> bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::uint8_t byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

class Writer {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T>
  void put(T value) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put(std::string_view text) {
    put(static_cast<std::uint32_t>(text.size()));
    bytes_.insert(bytes_.end(), text.begin(), text.end());
  }
  template <typename T>
  void put_array(std::span<const T> values) {
    for (T v : values) put(v);
  }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  template <typename T>
  requires std::is_arithmetic_v<T> Result<T> get(std::string_view what) {
    if (auto ok = need(sizeof(T), what); !ok) return std::unexpected(ok.error());
    T value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }
  Result<std::string> get_string(std::string_view what) {
    auto size = get<std::uint32_t>(what);
    if (!size) return std::unexpected(size.error());
    if (*size > kMaxStringBytes)
      return fail("{} is {} bytes long, more than the limit of {}", what, *size, kMaxStringBytes);
    if (auto ok = need(*size, what); !ok) return std::unexpected(ok.error());
    std::string text(reinterpret_cast<const char*>(bytes_.data() + position_), *size);
    position_ += *size;
    return text;
  }
  template <typename T>
  Result<void> get_array(std::span<T> out, std::string_view what) {
    if (auto ok = need(out.size() * sizeof(T), what); !ok) return ok;
    std::memcpy(out.data(), bytes_.data() + position_, out.size() * sizeof(T));
    position_ += out.size() * sizeof(T);
    return {};
  }
  std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  Result<void> need(std::size_t count, std::string_view what) {
    if (remaining() < count)
      return fail("payload ends inside {} (needs {} bytes at offset {}, {} left)", what, count, position_,
                  remaining());
    return {};
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

void put_hidden(Writer& w, const std::vector<int>& hidden) {
  w.put(static_cast<std::uint32_t>(hidden.size()));
  for (int size : hidden) w.put(static_cast<std::uint32_t>(size));
}

Result<std::vector<int>> get_hidden(Reader& r, std::string_view network) {
  auto count = r.get<std::uint32_t>(fmt::format("{} hidden layer count", network));
  if (!count) return std::unexpected(count.error());
  if (*count > kMaxHiddenLayers)
    return fail("{} has {} hidden layers, more than the limit of {}", network, *count, kMaxHiddenLayers);
  std::vector<int> hidden;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto size = r.get<std::uint32_t>(fmt::format("{} hidden layer sizes", network));
    if (!size) return std::unexpected(size.error());
    if (*size < 1 || *size > std::uint32_t(kMaxWidth))
      return fail("{} hidden layer {} has width {}, outside [1, {}]", network, i, *size, kMaxWidth);
    hidden.push_back(static_cast<int>(*size));
  }
  return hidden;
}

Result<void> get_parameters(Reader& r, Mlp<float>& mlp, std::string_view network) {
  auto count = r.get<std::uint64_t>(fmt::format("{} parameter count", network));
  if (!count) return std::unexpected(count.error());
  if (*count != mlp.parameters().size())
    return fail("{} has {} parameters but its architecture needs {}", network, *count,
                mlp.parameters().size());
  return r.get_array(mlp.parameters(), fmt::format("{} parameters", network));
}

Result<PolicyFile> decode_payload(std::span<const std::uint8_t> payload, std::uint32_t version) {
  Reader r(payload);
  PolicyFile file;

  // Architecture.
  MAESTRO_TRY_BIND(observation_size, r.get<std::uint32_t>("observation size"));
  MAESTRO_TRY_BIND(action_count, r.get<std::uint32_t>("action count"));
  MAESTRO_TRY_BIND(activation, r.get<std::uint32_t>("activation"));
  if (*activation != kTanh) return fail("activation code {} is unknown (1 = tanh)", *activation);
  if (*observation_size < 1 || *observation_size > std::uint32_t(kMaxWidth))
    return fail("observation size {} is outside [1, {}]", *observation_size, kMaxWidth);
  if (*action_count < 2 || *action_count > std::uint32_t(kMaxWidth))
    return fail("action count {} is outside [2, {}]", *action_count, kMaxWidth);
  MAESTRO_TRY_BIND(actor_hidden, get_hidden(r, "actor"));
  MAESTRO_TRY_BIND(critic_hidden, get_hidden(r, "critic"));
  const ActorCriticShape shape{static_cast<int>(*observation_size), static_cast<int>(*action_count),
                               *actor_hidden, *critic_hidden};
  file.network = ActorCritic<float>(shape);

  // Weights.
  if (auto ok = get_parameters(r, file.network.actor, "actor"); !ok) return std::unexpected(ok.error());
  if (auto ok = get_parameters(r, file.network.critic, "critic"); !ok) return std::unexpected(ok.error());

  // Observation normalisation.
  MAESTRO_TRY_BIND(enabled, r.get<std::uint8_t>("normalisation flag"));
  if (*enabled > 1) return fail("normalisation flag is {}, not 0 or 1", *enabled);
  file.normalizer = ObservationNormalizer(*observation_size, *enabled == 1);
  MAESTRO_TRY_BIND(clip, r.get<double>("normalisation clip"));
  MAESTRO_TRY_BIND(epsilon, r.get<double>("normalisation epsilon"));
  MAESTRO_TRY_BIND(count, r.get<double>("normalisation count"));
  file.normalizer.clip = *clip;
  file.normalizer.epsilon = *epsilon;
  file.normalizer.stats.count = *count;
  if (auto ok = r.get_array(std::span(file.normalizer.stats.mean), "normalisation means"); !ok)
    return std::unexpected(ok.error());
  if (auto ok = r.get_array(std::span(file.normalizer.stats.var), "normalisation variances"); !ok)
    return std::unexpected(ok.error());

  // Features.
  MAESTRO_TRY_BIND(feature_set, r.get_string("feature set"));
  MAESTRO_TRY_BIND(memory_limit, r.get<double>("memory limit per pod"));
  file.feature_set = *feature_set;
  file.memory_limit_bytes_per_pod = *memory_limit;

  // Action encoding. Version 1 knew only the original set (or an environment's own, named as its features).
  const bool autoscaling = file.feature_spec().has_value();
  if (version >= 2) {
    MAESTRO_TRY_BIND(action_set, r.get_string("action set"));
    file.action_set = *action_set;
  } else {
    file.action_set = autoscaling ? "original" : file.feature_set;
  }
  MAESTRO_TRY_BIND(name_count, r.get<std::uint32_t>("action name count"));
  if (*name_count != *action_count) return fail("{} action names for {} actions", *name_count, *action_count);
  for (std::uint32_t i = 0; i < *name_count; ++i) {
    MAESTRO_TRY_BIND(name, r.get_string("action names"));
    file.action_names.push_back(*name);
  }

  // Training metadata.
  MAESTRO_TRY_BIND(algorithm, r.get_string("algorithm"));
  MAESTRO_TRY_BIND(environment, r.get_string("environment"));
  MAESTRO_TRY_BIND(steps, r.get<std::uint64_t>("training steps"));
  MAESTRO_TRY_BIND(seed, r.get<std::uint64_t>("seed"));
  MAESTRO_TRY_BIND(hyperparameter_count, r.get<std::uint32_t>("hyperparameter count"));
  if (*hyperparameter_count > kMaxEntries)
    return fail("{} hyperparameters, more than the limit of {}", *hyperparameter_count, kMaxEntries);
  file.metadata.algorithm = *algorithm;
  file.metadata.environment = *environment;
  file.metadata.steps = *steps;
  file.metadata.seed = *seed;
  for (std::uint32_t i = 0; i < *hyperparameter_count; ++i) {
    MAESTRO_TRY_BIND(name, r.get_string("hyperparameter name"));
    MAESTRO_TRY_BIND(value, r.get_string("hyperparameter value"));
    file.metadata.hyperparameters.emplace_back(*name, *value);
  }
  MAESTRO_TRY_BIND(trained_at, r.get_string("training time"));
  file.metadata.trained_at = *trained_at;

  // Reward and training data: version 1 trained autoscaling policies with the original reward only and
  // did not record its data.
  if (version >= 2) {
    MAESTRO_TRY_BIND(reward, r.get_string("reward"));
    file.metadata.reward = *reward;
    MAESTRO_TRY_BIND(weight_count, r.get<std::uint32_t>("reward weight count"));
    if (*weight_count > kMaxEntries)
      return fail("{} reward weights, more than the limit of {}", *weight_count, kMaxEntries);
    for (std::uint32_t i = 0; i < *weight_count; ++i) {
      MAESTRO_TRY_BIND(name, r.get_string("reward weight name"));
      MAESTRO_TRY_BIND(value, r.get<double>("reward weight value"));
      file.metadata.reward_weights.emplace_back(*name, *value);
    }
    MAESTRO_TRY_BIND(window_count, r.get<std::uint32_t>("training data window count"));
    if (*window_count > kMaxEntries)
      return fail("{} training data windows, more than the limit of {}", *window_count, kMaxEntries);
    for (std::uint32_t i = 0; i < *window_count; ++i) {
      MAESTRO_TRY_BIND(trace, r.get_string("training data trace"));
      MAESTRO_TRY_BIND(start, r.get<double>("training data start"));
      MAESTRO_TRY_BIND(end, r.get<double>("training data end"));
      file.metadata.training_data.push_back({*trace, *start, *end});
    }
  } else if (autoscaling) {
    file.metadata.reward = "original";
    file.metadata.reward_weights = core::reward_weights(*core::reward_from_name("original"));
  } else {
    file.metadata.reward = file.feature_set;
  }

  if (r.remaining() != 0) return fail("payload has {} unexpected bytes after its last field", r.remaining());
  if (auto ok = validate(file); !ok) return std::unexpected(ok.error());
  return file;
}

std::string hex16(std::uint64_t value) {
  return fmt::format("{:016x}", value);
}

}  // namespace

std::optional<core::FeatureSpec> PolicyFile::feature_spec() const {
  const auto set = core::feature_set_from_name(feature_set);
  if (!set) return std::nullopt;
  return core::FeatureSpec{*set, memory_limit_bytes_per_pod};
}

bool operator==(const PolicyFile& a, const PolicyFile& b) {
  auto same_bits = [](std::span<const float> x, std::span<const float> y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size_bytes()) == 0;
  };
  return a.network.shape() == b.network.shape() &&
         same_bits(a.network.actor.parameters(), b.network.actor.parameters()) &&
         same_bits(a.network.critic.parameters(), b.network.critic.parameters()) &&
         a.normalizer == b.normalizer && a.feature_set == b.feature_set &&
         a.memory_limit_bytes_per_pod == b.memory_limit_bytes_per_pod && a.action_set == b.action_set &&
         a.action_names == b.action_names && a.metadata == b.metadata;
}

std::optional<core::ActionSet> PolicyFile::actions() const {
  if (!feature_spec()) return std::nullopt;
  auto set = core::action_set_from_name(action_set);
  if (!set) return std::nullopt;
  return *set;
}

PolicyFile untrained_autoscaling_policy(const core::FeatureSpec& spec, std::uint64_t seed,
                                        const core::ActionSet& actions) {
  const int features = static_cast<int>(core::feature_count(spec.set));
  Rng rng(seed);
  PolicyFile file;
  file.network = initialise(ActorCriticShape{features, actions.size()}, rng);
  file.normalizer = ObservationNormalizer(features, true);
  file.feature_set = std::string(core::feature_set_name(spec.set));
  file.memory_limit_bytes_per_pod = spec.memory_limit_bytes_per_pod;
  file.action_set = actions.name;
  file.action_names = actions.names;
  file.metadata.algorithm = "init";
  file.metadata.seed = seed;
  file.metadata.reward = "original";
  file.metadata.reward_weights = core::reward_weights(*core::reward_from_name("original"));
  return file;
}

Result<void> validate(const PolicyFile& file) {
  const ActorCriticShape shape = file.network.shape();
  if (auto ok = validate(shape); !ok) return std::unexpected(ok.error());
  auto finite = [](std::span<const float> values, std::string_view network) -> Result<void> {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i])) return fail("{} parameter {} is not finite ({})", network, i, values[i]);
    return {};
  };
  if (auto ok = finite(file.network.actor.parameters(), "actor"); !ok) return ok;
  if (auto ok = finite(file.network.critic.parameters(), "critic"); !ok) return ok;
  if (auto ok = validate(file.normalizer, shape.observation_size); !ok) return std::unexpected(ok.error());
  if (file.action_names.size() != std::size_t(shape.action_count))
    return fail("{} action names for {} actions", file.action_names.size(), shape.action_count);
  if (file.feature_set.empty()) return fail("the feature set is not named");
  for (const auto& window : file.metadata.training_data)
    if (window.trace.empty() || !std::isfinite(window.start_seconds) || !std::isfinite(window.end_seconds) ||
        window.start_seconds < 0 || window.end_seconds < window.start_seconds)
      return fail("training data window '{}' [{}, {}] s is not a named, ordered, non-negative window",
                  window.trace, window.start_seconds, window.end_seconds);
  if (const auto spec = file.feature_spec()) {
    if (auto ok = core::validate(*spec); !ok) return std::unexpected(ok.error());
    const std::size_t features = core::feature_count(spec->set);
    if (features != std::size_t(shape.observation_size))
      return fail("feature set '{}' has {} features but the network takes {}", file.feature_set, features,
                  shape.observation_size);
    if (file.action_set.empty()) return fail("the action set is not named");
    const auto actions = core::action_set_from_name(file.action_set);
    if (!actions) return fail("an autoscaling policy's {}", actions.error().message);
    if (file.action_names != actions->names)
      return fail("action set '{}' has the actions {}, but the file names {}", actions->name,
                  fmt::join(actions->names, ", "), fmt::join(file.action_names, ", "));
    if (auto reward = core::reward_from_record(file.metadata.reward, file.metadata.reward_weights); !reward)
      return fail("an autoscaling policy's reward: {}", reward.error().message);
  }
  return {};
}

std::vector<std::uint8_t> encode(const PolicyFile& file) {
  Writer payload;
  const ActorCriticShape shape = file.network.shape();
  payload.put(static_cast<std::uint32_t>(shape.observation_size));
  payload.put(static_cast<std::uint32_t>(shape.action_count));
  payload.put(kTanh);
  put_hidden(payload, shape.actor_hidden);
  put_hidden(payload, shape.critic_hidden);
  for (const Mlp<float>* mlp : {&file.network.actor, &file.network.critic}) {
    payload.put(static_cast<std::uint64_t>(mlp->parameters().size()));
    payload.put_array(mlp->parameters());
  }
  payload.put(static_cast<std::uint8_t>(file.normalizer.enabled ? 1 : 0));
  payload.put(file.normalizer.clip);
  payload.put(file.normalizer.epsilon);
  payload.put(file.normalizer.stats.count);
  payload.put_array(std::span<const double>(file.normalizer.stats.mean));
  payload.put_array(std::span<const double>(file.normalizer.stats.var));
  payload.put(std::string_view(file.feature_set));
  payload.put(file.memory_limit_bytes_per_pod);
  payload.put(std::string_view(file.action_set));
  payload.put(static_cast<std::uint32_t>(file.action_names.size()));
  for (const auto& name : file.action_names) payload.put(std::string_view(name));
  payload.put(std::string_view(file.metadata.algorithm));
  payload.put(std::string_view(file.metadata.environment));
  payload.put(file.metadata.steps);
  payload.put(file.metadata.seed);
  payload.put(static_cast<std::uint32_t>(file.metadata.hyperparameters.size()));
  for (const auto& [name, value] : file.metadata.hyperparameters) {
    payload.put(std::string_view(name));
    payload.put(std::string_view(value));
  }
  payload.put(std::string_view(file.metadata.trained_at));
  payload.put(std::string_view(file.metadata.reward));
  payload.put(static_cast<std::uint32_t>(file.metadata.reward_weights.size()));
  for (const auto& [name, value] : file.metadata.reward_weights) {
    payload.put(std::string_view(name));
    payload.put(value);
  }
  payload.put(static_cast<std::uint32_t>(file.metadata.training_data.size()));
  for (const auto& window : file.metadata.training_data) {
    payload.put(std::string_view(window.trace));
    payload.put(window.start_seconds);
    payload.put(window.end_seconds);
  }

  Writer out;
  out.bytes().insert(out.bytes().end(), kMagic.begin(), kMagic.end());
  out.put(kPolicyFileVersion);
  out.put(static_cast<std::uint64_t>(payload.bytes().size()));
  out.put(fnv1a64(payload.bytes()));
  out.bytes().insert(out.bytes().end(), payload.bytes().begin(), payload.bytes().end());
  return std::move(out.bytes());
}

namespace {
struct Payload {
  std::span<const std::uint8_t> bytes;
  std::uint32_t version = 0;
};

// Checks magic, version, length and checksum; gives the payload and its format version.
Result<Payload> checked_payload(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kMagic.size() || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    return fail("not a MAESTRO policy file (it does not start with \"{}\")", kMagic);
  if (bytes.size() < kHeaderSize)
    return fail("policy file is truncated: {} bytes, shorter than its {}-byte header", bytes.size(),
                kHeaderSize);
  std::uint32_t version;
  std::uint64_t length, stored;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&length, bytes.data() + 12, 8);
  std::memcpy(&stored, bytes.data() + 20, 8);
  if (version < 1 || version > kPolicyFileVersion)
    return fail("policy file format version {} is not supported (this build reads versions 1 to {})", version,
                kPolicyFileVersion);
  const std::size_t available = bytes.size() - kHeaderSize;
  if (length > available)
    return fail("policy file is truncated: its header announces a {}-byte payload but only {} bytes follow",
                length, available);
  if (length < available)
    return fail("policy file has {} unexpected bytes after its {}-byte payload", available - length, length);
  const auto payload = bytes.subspan(kHeaderSize);
  const std::uint64_t computed = fnv1a64(payload);
  if (computed != stored)
    return fail("policy file is corrupt: payload checksum is {} but the header records {}", hex16(computed),
                hex16(stored));
  return Payload{payload, version};
}
}  // namespace

Result<PolicyFile> decode(std::span<const std::uint8_t> bytes) {
  auto payload = checked_payload(bytes);
  if (!payload) return std::unexpected(payload.error());
  auto file = decode_payload(payload->bytes, payload->version);
  if (!file) return fail("policy file is invalid: {}", file.error().message);
  return file;
}

std::string model_version(const PolicyFile& file) {
  const auto bytes = encode(file);
  std::uint64_t checksum;
  std::memcpy(&checksum, bytes.data() + 20, 8);
  return hex16(checksum);
}

Result<void> write_policy_file(const std::filesystem::path& path, const PolicyFile& file) {
  if (auto ok = validate(file); !ok)
    return fail("refusing to write an invalid policy: {}", ok.error().message);
  const auto bytes = encode(file);
  // Written beside the target and renamed over it, so a reader never sees half a file.
  std::filesystem::path partial = path;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) return fail("cannot create {}", partial.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return fail("cannot write {}", partial.string());
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) return fail("cannot rename {} to {}: {}", partial.string(), path.string(), error.message());
  return {};
}

namespace {
Result<std::vector<std::uint8_t>> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open policy file {}", path.string());
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail("cannot read policy file {}", path.string());
  return bytes;
}
}  // namespace

Result<PolicyFile> read_policy_file(const std::filesystem::path& path) {
  auto bytes = read_bytes(path);
  if (!bytes) return std::unexpected(bytes.error());
  auto file = decode(*bytes);
  if (!file) return fail("{}: {}", path.string(), file.error().message);
  return file;
}

}  // namespace maestro::nn
