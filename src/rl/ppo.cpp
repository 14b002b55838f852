#include "rl/ppo.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "nn/adam.hpp"
#include "nn/categorical.hpp"

namespace maestro::rl {

namespace {
constexpr std::size_t kEpisodeWindow = 100;  // SB3's stats_window_size

// Independent streams from one seed (splitmix64 of the seed and a stream number).
std::uint64_t derive(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

nn::ActorCritic<float> initial_network(const PpoConfig& config, const VecEnv& env, std::uint64_t seed) {
  nn::Rng rng(derive(seed, 0));
  return nn::initialise(nn::ActorCriticShape{static_cast<int>(env.observation_size()), env.action_count(),
                                             config.actor_hidden, config.critic_hidden},
                        rng);
}
}  // namespace

PpoTrainer::PpoTrainer(const PpoConfig& config, PolicyDescription description, VecEnv& env,
                       std::uint64_t seed, const base::Clock& clock)
    : config_(config),
      description_(std::move(description)),
      env_(env),
      seed_(seed),
      clock_(clock),
      network_(initial_network(config, env, seed)),
      normalizer_(env.observation_size(), config.normalize_observations),
      sample_rng_(derive(seed, 1)),
      shuffle_rng_(derive(seed, 2)),
      helper_((config.threads == 0 ? std::min(free_cores(), 2) : config.threads) > 1
                  ? std::make_unique<HelperThread>()
                  : nullptr),
      updater_(network_, config.adam_eps, helper_.get()),
      buffer_(config.n_steps, env.size(), static_cast<int>(env.observation_size())) {
  assert(config.n_envs == env.size());
}

Result<void> PpoTrainer::start_from(const nn::PolicyFile& policy) {
  const auto shape = policy.network.shape();
  if (shape != network_.shape())
    return fail(
        "the policy's network ({} inputs, {} actions, hidden {}/{} layers) is not the one training builds "
        "({} inputs, {} actions, hidden {}/{} layers): set actor_hidden and critic_hidden to the policy's",
        shape.observation_size, shape.action_count, shape.actor_hidden.size(), shape.critic_hidden.size(),
        network_.shape().observation_size, network_.shape().action_count,
        network_.shape().actor_hidden.size(), network_.shape().critic_hidden.size());
  if (policy.normalizer.enabled != normalizer_.enabled ||
      policy.normalizer.stats.size() != normalizer_.stats.size())
    return fail("the policy {} observations; set normalize to match",
                policy.normalizer.enabled ? "normalises" : "does not normalise");
  network_ = policy.network;  // in place: the updater holds a reference to it
  normalizer_ = policy.normalizer;
  return {};
}

double PpoTrainer::imitate(std::span<const double> observations, std::span<const int> actions, int epochs,
                           double learning_rate) {
  const std::size_t n = env_.observation_size(), rows = actions.size();
  assert(observations.size() == rows * n);
  const int action_count = env_.action_count();
  normalizer_.update(observations, rows);
  std::vector<float> normalised(observations.size());
  for (std::size_t offset = 0; offset < observations.size(); offset += n)
    normalizer_.normalize(observations.subspan(offset, n), std::span(normalised).subspan(offset, n));
  using Matrix = nn::Mlp<float>::Matrix;
  auto& actor = network_.actor;
  nn::Adam<float> adam(actor.parameters().size(), config_.adam_eps);
  nn::Mlp<float>::Cache cache;
  std::vector<float> gradient(actor.parameters().size());
  std::vector<std::size_t> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  const auto batch_size = static_cast<std::size_t>(config_.batch_size);
  // A minibatch (a column per sample), its logits with a row per sample, and d(loss)/d(logits).
  Matrix input(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(batch_size));
  Matrix logits_by_action(static_cast<Eigen::Index>(batch_size), action_count);
  Matrix grad(action_count, static_cast<Eigen::Index>(batch_size));
  std::vector<float> log_probabilities(static_cast<std::size_t>(action_count));
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (std::size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[shuffle_rng_.below(i)]);
    for (std::size_t start = 0; start + batch_size <= rows; start += batch_size) {
      for (std::size_t b = 0; b < batch_size; ++b)
        for (std::size_t k = 0; k < n; ++k)
          input(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(b)) =
              normalised[order[start + b] * n + k];
      actor.forward(input, cache);
      // d(mean cross-entropy)/d(logits): (softmax − one-hot) / batch, sample by sample.
      logits_by_action = cache.outputs.back().transpose();  // each sample's logits contiguous
      for (Eigen::Index b = 0; b < logits_by_action.rows(); ++b) {
        nn::log_softmax<float>(
            std::span<const float>(logits_by_action.row(b).data(), log_probabilities.size()),
            log_probabilities);
        for (Eigen::Index a = 0; a < grad.rows(); ++a)
          grad(a, b) =
              std::exp(log_probabilities[static_cast<std::size_t>(a)]) / static_cast<float>(batch_size);
        grad(actions[order[start + static_cast<std::size_t>(b)]], b) -= 1.0f / static_cast<float>(batch_size);
      }
      actor.backward(input, cache, grad, gradient);
      adam.step(actor.parameters(), gradient, learning_rate);
    }
  }
  // How often the cloned actor's most probable action is the demonstrated one.
  std::size_t agree = 0;
  std::vector<float> logits(static_cast<std::size_t>(action_count));
  std::vector<float> scratch(2 * static_cast<std::size_t>(actor.shape().max_width()));
  for (std::size_t r = 0; r < rows; ++r) {
    actor.forward(std::span<const float>(normalised).subspan(r * n, n), logits, scratch);
    agree += nn::argmax<float>(logits) == actions[r];
  }
  return rows ? double(agree) / double(rows) : 0;
}

double PpoTrainer::seconds() const {
  return std::chrono::duration<double>(clock_.now() - start_).count();
}

void PpoTrainer::observe(std::span<const double> raw, std::span<float> out) {
  const std::size_t n = env_.observation_size();
  if (anchor_) last_raw_observations_.assign(raw.begin(), raw.end());  // what the anchor reads
  normalizer_.update(raw, raw.size() / n);
  for (std::size_t offset = 0; offset < raw.size(); offset += n)
    normalizer_.normalize(raw.subspan(offset, n), out.subspan(offset, n));
}

void PpoTrainer::learn(std::uint64_t total_steps, std::span<Callback* const> callbacks) {
  total_steps_ = total_steps;
  start_ = clock_.now();
  const int n_envs = env_.size();
  const std::size_t obs_size = env_.observation_size();
  env_.reset();
  if (config_.anchor_kl_coef > 0) {
    anchor_.emplace(network_.actor, normalizer_);
    buffer_.anchor_log_probs.resize(env_.action_count(), buffer_.size());
  }
  last_observations_.assign(n_envs * obs_size, 0.0f);
  observe(env_.observations(), last_observations_);
  last_episode_starts_.assign(n_envs, 1);
  actions_.assign(n_envs, 0);
  for (Callback* callback : callbacks) callback->on_training_start(*this);

  while (steps_ < total_steps_) {
    collect_rollout(callbacks);
    ++iteration_;
    const double progress_remaining = 1.0 - double(steps_) / double(total_steps_);
    UpdateSettings settings;
    settings.n_epochs = config_.n_epochs;
    settings.batch_size = config_.batch_size;
    settings.learning_rate = config_.learning_rate.at(progress_remaining);
    settings.clip_range = config_.clip_range.at(progress_remaining);
    if (config_.clip_range_vf) settings.clip_range_vf = config_.clip_range_vf->at(progress_remaining);
    settings.ent_coef = config_.ent_coef;
    settings.vf_coef = config_.vf_coef;
    settings.max_grad_norm = config_.max_grad_norm;
    settings.target_kl = config_.target_kl;
    settings.normalize_advantage = config_.normalize_advantage;
    settings.anchor_kl_coef = config_.anchor_kl_coef;
    last_update_ = updater_.update(buffer_, settings, shuffle_rng_);
    for (Callback* callback : callbacks) callback->on_iteration(*this);
  }
  for (Callback* callback : callbacks) callback->on_training_end(*this);
}

void PpoTrainer::collect_rollout(std::span<Callback* const> callbacks) {
  const int n_envs = env_.size();
  const std::size_t obs_size = env_.observation_size();
  const int action_count = env_.action_count();
  // The rollout's actor, column-major for fast single-sample inference; observations are already normalised.
  const nn::Actor actor(network_.actor, nn::ObservationNormalizer(obs_size, false));
  std::vector<float> logits(action_count), log_probs(action_count);
  std::vector<double> observation(obs_size);
  // Time-limit truncations: (buffer index, normalised terminal observation), valued after the rollout.
  std::vector<int> truncated_at;
  std::vector<float> terminal_observations;

  // The critic's values of the columns collected so far, a chunk at a time on the helper while the rollout
  // goes on (chunks a multiple of the kernels' 16 columns, so that each value is computed exactly as in one
  // pass over the buffer). The critic does not change during the rollout, so these equal SB3's per-step
  // values. Every chunk is finished before this returns, also by an exception.
  constexpr int kValueChunk = 256;
  int valued = 0;
  struct FinishValues {
    HelperThread* helper;
    ~FinishValues() {
      if (helper) helper->finish();
    }
  } finish_values{helper_.get()};

  for (int step = 0; step < config_.n_steps; ++step) {
    for (int e = 0; e < n_envs; ++e) {
      const int i = buffer_.index(step, e);
      const float* obs = last_observations_.data() + e * obs_size;
      for (std::size_t j = 0; j < obs_size; ++j) {
        buffer_.observations(j, i) = obs[j];
        observation[j] = obs[j];
      }
      actor.logits(observation, logits);
      nn::log_softmax<float>(logits, log_probs);
      const int action = nn::sample<float>(log_probs, sample_rng_.uniform());
      actions_[e] = action;
      buffer_.actions[i] = action;
      buffer_.log_probs[i] = log_probs[action];
      buffer_.episode_starts[i] = last_episode_starts_[e];
      if (anchor_) {
        anchor_->logits(std::span<const double>(last_raw_observations_).subspan(e * obs_size, obs_size),
                        logits);
        nn::log_softmax<float>(logits, log_probs);
        for (int a = 0; a < action_count; ++a) buffer_.anchor_log_probs(a, i) = log_probs[a];
      }
    }
    env_.step(actions_);
    steps_ += n_envs;
    observe(env_.observations(), last_observations_);
    for (int e = 0; e < n_envs; ++e) {
      const int i = buffer_.index(step, e);
      buffer_.rewards[i] = static_cast<float>(env_.rewards()[e]);
      last_episode_starts_[e] = env_.done(e);
      if (env_.truncated(e)) {
        truncated_at.push_back(i);
        const auto terminal = env_.terminal_observation(e);
        const std::size_t offset = terminal_observations.size();
        terminal_observations.resize(offset + obs_size);
        normalizer_.normalize(terminal, std::span(terminal_observations).subspan(offset, obs_size));
      }
    }
    for (const auto& [env_index, episode] : env_.finished_episodes()) {
      recent_episodes_.push_back(episode);
      if (recent_episodes_.size() > kEpisodeWindow) recent_episodes_.pop_front();
    }
    const int collected = buffer_.index(step + 1, 0);
    if (helper_ && collected - valued >= kValueChunk) {
      helper_->finish();
      const int first = valued;
      valued += (collected - valued) / kValueChunk * kValueChunk;
      helper_->post([this, first, end = valued] { value_columns(first, end); });
    }
    for (Callback* callback : callbacks) callback->on_step(*this);
  }
  if (helper_) helper_->finish();
  value_columns(valued, buffer_.size());

  nn::Mlp<float>::Cache cache;
  if (!truncated_at.empty()) {
    const Eigen::Map<const Eigen::MatrixXf> terminal_columns(terminal_observations.data(), obs_size,
                                                             truncated_at.size());
    const nn::Mlp<float>::Matrix terminal = terminal_columns;
    network_.critic.forward(terminal, cache);
    for (std::size_t k = 0; k < truncated_at.size(); ++k)
      buffer_.rewards[truncated_at[k]] += static_cast<float>(config_.gamma) * cache.outputs.back()(0, k);
  }
  const nn::Mlp<float>::Matrix last =
      Eigen::Map<const Eigen::MatrixXf>(last_observations_.data(), obs_size, n_envs);
  network_.critic.forward(last, cache);
  std::vector<float> last_values(n_envs);
  for (int e = 0; e < n_envs; ++e) last_values[e] = cache.outputs.back()(0, e);
  buffer_.compute_returns_and_advantage(last_values, last_episode_starts_, config_.gamma, config_.gae_lambda);
}

void PpoTrainer::value_columns(int first, int end) {
  if (first == end) return;
  network_.critic.forward(buffer_.observations.middleCols(first, end - first), values_cache_);
  for (int i = first; i < end; ++i) buffer_.values[i] = values_cache_.outputs.back()(0, i - first);
}

nn::PolicyFile PpoTrainer::policy() const {
  nn::PolicyFile file;
  file.network = network_;
  file.normalizer = normalizer_;
  file.feature_set = description_.feature_set;
  file.memory_limit_bytes_per_pod = description_.memory_limit_bytes_per_pod;
  file.action_set = description_.action_set;
  file.action_names = description_.action_names;
  file.metadata.reward = description_.reward;
  file.metadata.reward_weights = description_.reward_weights;
  file.metadata.training_data = description_.training_data;
  file.metadata.algorithm = "ppo";
  file.metadata.environment = description_.environment;
  file.metadata.steps = steps_;
  file.metadata.seed = seed_;
  file.metadata.hyperparameters = hyperparameters(config_);
  return file;
}

Result<nn::PolicyFile> train(const PpoConfig& config, const PolicyDescription& description, VecEnv& env,
                             std::uint64_t total_steps, std::uint64_t seed,
                             std::span<Callback* const> callbacks) {
  if (auto valid = validate(config); !valid) return std::unexpected(valid.error());
  if (config.n_envs != env.size())
    return fail("n_envs is {} but the vectorised environment has {}", config.n_envs, env.size());
  if (int(description.action_names.size()) != env.action_count())
    return fail("{} action names for an environment with {} actions", description.action_names.size(),
                env.action_count());
  static const base::RealClock clock;
  PpoTrainer trainer(config, description, env, seed, clock);
  trainer.learn(total_steps, callbacks);
  nn::PolicyFile file = trainer.policy();
  if (auto valid = nn::validate(file); !valid)
    return fail("training produced an invalid policy: {}", valid.error().message);
  return file;
}

Evaluation evaluate(const nn::Actor& actor, Env& env, int episodes, std::uint64_t seed,
                    int max_episode_steps) {
  Evaluation result;
  std::vector<double> observation(env.observation_size());
  for (int k = 0; k < episodes; ++k) {
    env.reset(seed + k, observation);
    double episode_return = 0;
    int length = 0;
    while (length < max_episode_steps) {
      const StepResult step = env.step(actor.act(observation), observation);
      episode_return += step.reward;
      ++length;
      if (step.terminated || step.truncated) break;
    }
    result.returns.push_back(episode_return);
    result.lengths.push_back(length);
  }
  if (episodes > 0) {
    double sum = 0;
    for (double r : result.returns) sum += r;
    result.mean_return = sum / episodes;
    double squares = 0;
    for (double r : result.returns) squares += (r - result.mean_return) * (r - result.mean_return);
    result.std_return = std::sqrt(squares / episodes);
  }
  return result;
}

}  // namespace maestro::rl
