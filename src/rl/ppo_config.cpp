#include "rl/ppo_config.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

namespace maestro::rl {

namespace {
// Shortest text that reads back to the same double.
std::string number(double value) {
  return fmt::format("{}", value);
}

Result<double> parse_number(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return fail("'{}' is not a number", text);
  return value;
}

std::string sizes(const std::vector<int>& values) {
  return fmt::format("[{}]", fmt::join(values, ", "));
}
}  // namespace

std::string Schedule::to_string() const {
  return linear ? "lin_" + number(initial) : number(initial);
}

Result<Schedule> Schedule::parse(std::string_view text) {
  const bool linear = text.starts_with("lin_");
  auto value = parse_number(linear ? text.substr(4) : text);
  if (!value) return fail("schedule '{}' is neither a number nor lin_<number>", text);
  return Schedule{*value, linear};
}

std::vector<std::string_view> preset_names() {
  return {"sb3", "rl-zoo-cartpole", "original"};
}

Result<PpoConfig> preset(std::string_view name) {
  PpoConfig config;
  if (name == "sb3") return config;
  if (name == "rl-zoo-cartpole") {
    config.n_envs = 8;
    config.n_steps = 32;
    config.batch_size = 256;
    config.gamma = 0.98;
    config.gae_lambda = 0.8;
    config.n_epochs = 20;
    config.ent_coef = 0.0;
    config.learning_rate = {0.001, true};
    config.clip_range = {0.2, true};
    return config;
  }
  if (name == "original") {
    config.n_steps = 1024;
    config.ent_coef = 0.01;
    return config;
  }
  return fail("unknown preset '{}' (known: {})", name, fmt::join(preset_names(), ", "));
}

Result<PpoConfig> validate(const PpoConfig& c) {
  if (c.n_envs < 1 || c.n_envs > 4096) return fail("n_envs {} is outside [1, 4096]", c.n_envs);
  if (c.n_steps < 1) return fail("n_steps {} must be at least 1", c.n_steps);
  if (c.batch_size < 2) return fail("batch_size {} must be at least 2", c.batch_size);
  if (c.batch_size > c.n_steps * c.n_envs)
    return fail("batch_size {} is larger than a rollout (n_steps × n_envs = {})", c.batch_size,
                c.n_steps * c.n_envs);
  if (c.n_epochs < 1) return fail("n_epochs {} must be at least 1", c.n_epochs);
  if (!(c.learning_rate.initial > 0))
    return fail("learning_rate {} must be positive", c.learning_rate.initial);
  if (!(c.clip_range.initial > 0)) return fail("clip_range {} must be positive", c.clip_range.initial);
  if (c.clip_range_vf && !(c.clip_range_vf->initial > 0))
    return fail("clip_range_vf {} must be positive", c.clip_range_vf->initial);
  if (!(c.gamma > 0 && c.gamma <= 1)) return fail("gamma {} is outside (0, 1]", c.gamma);
  if (!(c.gae_lambda >= 0 && c.gae_lambda <= 1)) return fail("gae_lambda {} is outside [0, 1]", c.gae_lambda);
  if (!(c.ent_coef >= 0) || !std::isfinite(c.ent_coef))
    return fail("ent_coef {} must be non-negative", c.ent_coef);
  if (!(c.vf_coef >= 0) || !std::isfinite(c.vf_coef))
    return fail("vf_coef {} must be non-negative", c.vf_coef);
  if (!(c.max_grad_norm > 0)) return fail("max_grad_norm {} must be positive", c.max_grad_norm);
  if (c.target_kl && !(*c.target_kl > 0)) return fail("target_kl {} must be positive", *c.target_kl);
  if (!(c.anchor_kl_coef >= 0) || !std::isfinite(c.anchor_kl_coef))
    return fail("anchor_kl_coef {} must be non-negative", c.anchor_kl_coef);
  if (!(c.adam_eps > 0)) return fail("adam_eps {} must be positive", c.adam_eps);
  for (const auto* hidden : {&c.actor_hidden, &c.critic_hidden})
    for (int width : *hidden)
      if (width < 1 || width > 1024) return fail("hidden layer width {} is outside [1, 1024]", width);
  if (c.threads < 0 || c.threads > 2)
    return fail("threads {} is not 0 (as the free cores allow), 1 or 2", c.threads);
  return c;
}

Result<PpoConfig> apply_yaml(PpoConfig config, std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return fail("hyperparameter file is not valid YAML: {}", error.what());
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return fail("hyperparameter file must be a mapping of name: value");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    try {
      auto integer = [&](int& field) { field = value.as<int>(); };
      auto real = [&](double& field) { field = value.as<double>(); };
      auto schedule = [&](Schedule& field) -> Result<void> {
        auto parsed = Schedule::parse(value.as<std::string>());
        if (!parsed) return std::unexpected(parsed.error());
        field = *parsed;
        return {};
      };
      Result<void> ok;
      if (key == "n_envs")
        integer(config.n_envs);
      else if (key == "n_steps")
        integer(config.n_steps);
      else if (key == "batch_size")
        integer(config.batch_size);
      else if (key == "n_epochs")
        integer(config.n_epochs);
      else if (key == "learning_rate")
        ok = schedule(config.learning_rate);
      else if (key == "clip_range")
        ok = schedule(config.clip_range);
      else if (key == "clip_range_vf") {
        if (value.IsNull() || value.as<std::string>() == "None" || value.as<std::string>() == "null")
          config.clip_range_vf.reset();
        else {
          Schedule s;
          ok = schedule(s);
          config.clip_range_vf = s;
        }
      } else if (key == "gamma")
        real(config.gamma);
      else if (key == "gae_lambda")
        real(config.gae_lambda);
      else if (key == "ent_coef")
        real(config.ent_coef);
      else if (key == "vf_coef")
        real(config.vf_coef);
      else if (key == "max_grad_norm")
        real(config.max_grad_norm);
      else if (key == "target_kl") {
        if (value.IsNull() || value.as<std::string>() == "None" || value.as<std::string>() == "null")
          config.target_kl.reset();
        else
          config.target_kl = value.as<double>();
      } else if (key == "normalize_advantage")
        config.normalize_advantage = value.as<bool>();
      else if (key == "adam_eps")
        real(config.adam_eps);
      else if (key == "actor_hidden")
        config.actor_hidden = value.as<std::vector<int>>();
      else if (key == "critic_hidden")
        config.critic_hidden = value.as<std::vector<int>>();
      else if (key == "normalize")
        config.normalize_observations = value.as<bool>();
      else if (key == "threads")
        integer(config.threads);
      else if (key == "anchor_kl_coef")
        real(config.anchor_kl_coef);
      else
        return fail("unknown hyperparameter '{}'", key);
      if (!ok) return fail("{}: {}", key, ok.error().message);
    } catch (const YAML::Exception&) {
      return fail("hyperparameter '{}' has a value of the wrong kind", key);
    }
  }
  return config;
}

std::vector<std::pair<std::string, std::string>> hyperparameters(const PpoConfig& c) {
  std::vector<std::pair<std::string, std::string>> named = {
      {"n_envs", std::to_string(c.n_envs)},
      {"n_steps", std::to_string(c.n_steps)},
      {"batch_size", std::to_string(c.batch_size)},
      {"n_epochs", std::to_string(c.n_epochs)},
      {"learning_rate", c.learning_rate.to_string()},
      {"clip_range", c.clip_range.to_string()},
      {"clip_range_vf", c.clip_range_vf ? c.clip_range_vf->to_string() : "null"},
      {"gamma", number(c.gamma)},
      {"gae_lambda", number(c.gae_lambda)},
      {"ent_coef", number(c.ent_coef)},
      {"vf_coef", number(c.vf_coef)},
      {"max_grad_norm", number(c.max_grad_norm)},
      {"target_kl", c.target_kl ? number(*c.target_kl) : "null"},
      {"normalize_advantage", c.normalize_advantage ? "true" : "false"},
      {"adam_eps", number(c.adam_eps)},
      {"actor_hidden", sizes(c.actor_hidden)},
      {"critic_hidden", sizes(c.critic_hidden)},
      {"normalize", c.normalize_observations ? "true" : "false"}};
  // Only when used, so that the record of an SB3 configuration stays SB3's.
  if (c.anchor_kl_coef > 0) named.emplace_back("anchor_kl_coef", number(c.anchor_kl_coef));
  return named;
}

}  // namespace maestro::rl
