// One PPO update against Stable-Baselines3 2.4.1 (shared/conformance/sb3-ppo-update.json): gradients and
// their global norm at each optimiser step, the logged losses, and the parameters after the update.
#include "rl/ppo_update.hpp"

#include <cmath>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nn/kernels.hpp"

namespace maestro::rl {
namespace {

using nlohmann::json;

const json& fixture() {
  static const json data = [] {
    std::ifstream in(std::string(MAESTRO_SHARED_DIR) + "/conformance/sb3-ppo-update.json");
    return json::parse(in);
  }();
  return data;
}

// torch's parameter names → (network, layer): weight [out, in] row-major and bias [out] are our layout.
struct TorchLayer {
  std::string name;
  bool actor;
  int layer;
};
const std::vector<TorchLayer> kLayers = {{"mlp_extractor.policy_net.0", true, 0},
                                         {"mlp_extractor.policy_net.2", true, 1},
                                         {"action_net", true, 2},
                                         {"mlp_extractor.value_net.0", false, 0},
                                         {"mlp_extractor.value_net.2", false, 1},
                                         {"value_net", false, 2}};

std::vector<float> flatten(const json& tensor) {
  std::vector<float> values;
  if (tensor.is_array() && !tensor.empty() && tensor[0].is_array())
    for (const auto& row : tensor)
      for (const auto& v : row) values.push_back(v.get<float>());
  else
    for (const auto& v : tensor) values.push_back(v.get<float>());
  return values;
}

// Copies torch tensors into (or compares them with) a network-shaped flat array.
template <typename Visit>
void for_each_tensor(const nn::ActorCriticShape& shape, const json& tensors, Visit visit) {
  for (const auto& layer : kLayers) {
    const nn::MlpShape mlp = layer.actor ? shape.actor() : shape.critic();
    visit(layer, "weight", mlp.weight_offset(layer.layer), flatten(tensors.at(layer.name + ".weight")));
    visit(layer, "bias", mlp.bias_offset(layer.layer), flatten(tensors.at(layer.name + ".bias")));
  }
}

nn::ActorCritic<float> load_network(const json& parameters) {
  nn::ActorCritic<float> network(nn::ActorCriticShape{5, 3});
  for_each_tensor(
      network.shape(), parameters,
      [&](const TorchLayer& layer, const char*, std::size_t offset, const std::vector<float>& values) {
        auto target = layer.actor ? network.actor.parameters() : network.critic.parameters();
        std::ranges::copy(values, target.begin() + offset);
      });
  return network;
}

RolloutBuffer load_batch(const json& batch) {
  const int n = static_cast<int>(batch.at("actions").size());
  RolloutBuffer buffer(n, 1, 5);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 5; ++j) buffer.observations(j, i) = batch.at("observations")[i][j].get<float>();
    buffer.actions[i] = batch.at("actions")[i].get<int>();
    buffer.values[i] = batch.at("old_values")[i].get<float>();
    buffer.log_probs[i] = batch.at("old_log_probs")[i].get<float>();
    buffer.advantages[i] = batch.at("advantages")[i].get<float>();
    buffer.returns[i] = batch.at("returns")[i].get<float>();
  }
  return buffer;
}

UpdateSettings settings_of(const json& h) {
  UpdateSettings s;
  s.n_epochs = h.at("n_epochs");
  s.batch_size = h.at("batch_size");
  s.learning_rate = h.at("learning_rate");
  s.clip_range = h.at("clip_range");
  if (!h.at("clip_range_vf").is_null()) s.clip_range_vf = h.at("clip_range_vf").get<double>();
  s.ent_coef = h.at("ent_coef");
  s.vf_coef = h.at("vf_coef");
  s.max_grad_norm = h.at("max_grad_norm");
  s.normalize_advantage = h.at("normalize_advantage");
  return s;
}

struct Recorded {
  double norm;
  std::vector<float> actor, critic;
};

// Each case on each kernel set (nn/kernels.hpp) the CPU runs: every path must agree with SB3.
class Sb3PpoUpdate : public ::testing::TestWithParam<std::tuple<int, std::string>> {
 protected:
  int case_index() const { return std::get<0>(GetParam()); }

  void SetUp() override {
    const nn::kernels::KernelSet* kernels = nn::kernels::find(std::get<1>(GetParam()));
    if (!kernels) GTEST_SKIP() << "this CPU cannot run the " << std::get<1>(GetParam()) << " kernels";
    nn::kernels::set_active(*kernels);
    const json& c = fixture().at("cases").at(case_index());
    name_ = c.at("name");
    network_ = load_network(c.at("parameters_before"));
    const RolloutBuffer buffer = load_batch(c.at("batch"));
    for (int threads : {1, 2}) {
      nn::ActorCritic<float> network = network_;
      std::optional<HelperThread> helper;
      if (threads == 2) helper.emplace();
      PpoUpdater updater(network, c.at("hyperparameters").at("adam_eps").get<double>(),
                         helper ? &*helper : nullptr);
      nn::Rng rng(1);
      std::vector<Recorded> steps;
      const UpdateLog log = updater.update(
          buffer, settings_of(c.at("hyperparameters")), rng, [&](const OptimizerStepRecord& step) {
            steps.push_back({step.grad_norm,
                             {step.actor_gradient.begin(), step.actor_gradient.end()},
                             {step.critic_gradient.begin(), step.critic_gradient.end()}});
          });
      if (threads == 1) {
        after_ = network;
        log_ = log;
        steps_ = steps;
      } else {
        // Two threads give the very same numbers.
        EXPECT_TRUE(std::ranges::equal(network.actor.parameters(), after_.actor.parameters()));
        EXPECT_TRUE(std::ranges::equal(network.critic.parameters(), after_.critic.parameters()));
      }
    }
  }

  void TearDown() override { nn::kernels::set_active(previous_kernels_); }

  const nn::kernels::KernelSet& previous_kernels_ = nn::kernels::active();
  std::string name_;
  nn::ActorCritic<float> network_, after_;
  UpdateLog log_;
  std::vector<Recorded> steps_;
};

// float32 agreement: each value within rtol of the tensor's scale.
void expect_close(std::span<const float> ours, const std::vector<float>& theirs, double rtol, double atol,
                  const std::string& what) {
  double scale = 0;
  for (float v : theirs) scale = std::max(scale, double(std::abs(v)));
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < theirs.size(); ++i) {
    const double error = std::abs(double(ours[i]) - theirs[i]);
    if (error > worst) worst = error, worst_at = i;
  }
  EXPECT_LE(worst, rtol * scale + atol)
      << what << ": worst difference " << worst << " at " << worst_at << " (ours " << ours[worst_at]
      << ", SB3 " << theirs[worst_at] << ", scale " << scale << ")";
}

TEST_P(Sb3PpoUpdate, GradientsAndNormsAtEachOptimizerStep) {
  const json& expected = fixture().at("cases").at(case_index()).at("optimizer_steps");
  ASSERT_EQ(steps_.size(), expected.size()) << name_;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    const double norm = expected[s].at("grad_norm_before_clip");
    EXPECT_NEAR(steps_[s].norm, norm, 1e-5 * norm) << name_ << " step " << s;
    for_each_tensor(
        network_.shape(), expected[s].at("gradients_before_clip"),
        [&](const TorchLayer& layer, const char* kind, std::size_t offset, const std::vector<float>& values) {
          const auto& ours = layer.actor ? steps_[s].actor : steps_[s].critic;
          expect_close(std::span(ours).subspan(offset, values.size()), values, 1e-5, 1e-9,
                       fmt::format("{} step {} {}.{}", name_, s, layer.name, kind));
        });
  }
}

TEST_P(Sb3PpoUpdate, LoggedLosses) {
  const json& logged = fixture().at("cases").at(case_index()).at("logged");
  auto near = [&](const char* key, double ours) {
    const double theirs = logged.at(key);
    EXPECT_NEAR(ours, theirs, 1e-5 * std::max(1.0, std::abs(theirs))) << name_ << " " << key;
  };
  near("train/entropy_loss", log_.entropy_loss);
  near("train/policy_gradient_loss", log_.policy_gradient_loss);
  near("train/value_loss", log_.value_loss);
  near("train/approx_kl", log_.approx_kl);
  near("train/loss", log_.loss);
  near("train/explained_variance", log_.explained_variance);
  near("train/learning_rate", log_.learning_rate);
  near("train/clip_range", log_.clip_range);
  EXPECT_DOUBLE_EQ(log_.clip_fraction, logged.at("train/clip_fraction").get<double>()) << name_;
  EXPECT_EQ(log_.n_updates, logged.at("train/n_updates").get<double>()) << name_;
  if (logged.contains("train/clip_range_vf")) near("train/clip_range_vf", *log_.clip_range_vf);
}

TEST_P(Sb3PpoUpdate, ParametersAfterTheUpdate) {
  const json& c = fixture().at("cases").at(case_index());
  const double learning_rate = c.at("hyperparameters").at("learning_rate");
  for_each_tensor(
      network_.shape(), c.at("parameters_after"),
      [&](const TorchLayer& layer, const char* kind, std::size_t offset, const std::vector<float>& values) {
        const auto ours = (layer.actor ? after_.actor.parameters() : after_.critic.parameters())
                              .subspan(offset, values.size());
        // Within a small multiple of lr·1e-3 (float32, two Adam steps), as the fixture's README says.
        expect_close(ours, values, 0, 5 * learning_rate * 1e-3,
                     fmt::format("{} {}.{}", name_, layer.name, kind));
      });
}

INSTANTIATE_TEST_SUITE_P(Cases, Sb3PpoUpdate,
                         ::testing::Combine(::testing::Values(0, 1, 2),
                                            ::testing::Values(std::string("baseline"),
                                                              std::string("x86-64-v3"),
                                                              std::string("x86-64-v4"))));

}  // namespace
}  // namespace maestro::rl
