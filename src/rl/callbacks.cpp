#include "rl/callbacks.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace maestro::rl {

double mean_episode_return(const PpoTrainer& trainer) {
  const auto& episodes = trainer.recent_episodes();
  if (episodes.empty()) return std::nan("");
  double sum = 0;
  for (const auto& e : episodes) sum += e.episode_return;
  return sum / double(episodes.size());
}

double mean_episode_length(const PpoTrainer& trainer) {
  const auto& episodes = trainer.recent_episodes();
  if (episodes.empty()) return std::nan("");
  double sum = 0;
  for (const auto& e : episodes) sum += e.length;
  return sum / double(episodes.size());
}

EvalCallback::EvalCallback(std::unique_ptr<Env> env, std::uint64_t every_steps, int episodes,
                           std::uint64_t seed)
    : env_(std::move(env)), every_steps_(every_steps), episodes_(episodes), seed_(seed) {}

void EvalCallback::on_training_start(const PpoTrainer& trainer) {
  next_at_ = trainer.steps() + every_steps_;
}

void EvalCallback::on_step(const PpoTrainer& trainer) {
  if (trainer.steps() < next_at_) return;
  next_at_ += every_steps_;
  nn::PolicyFile policy = trainer.policy();
  const Evaluation evaluation = evaluate(nn::Actor(policy), *env_, episodes_, seed_);
  results_.push_back({trainer.steps(), evaluation.mean_return, evaluation.std_return});
  if (!best_ || evaluation.mean_return > best_mean_) {
    best_mean_ = evaluation.mean_return;
    best_ = std::move(policy);
  }
}

void CsvLogCallback::on_training_start(const PpoTrainer& trainer) {
  steps_at_start_ = trainer.steps();
  out_
      << "time/iterations,time/total_timesteps,time/fps,rollout/ep_rew_mean,rollout/ep_len_mean,"
         "train/approx_kl,train/clip_fraction,train/entropy_loss,train/value_loss,train/policy_gradient_loss,"
         "train/explained_variance,train/learning_rate,train/clip_range,train/loss,train/n_updates\n";
}

void CsvLogCallback::on_iteration(const PpoTrainer& trainer) {
  const UpdateLog& u = trainer.last_update();
  const double seconds = trainer.seconds();
  const double fps = seconds > 0 ? double(trainer.steps() - steps_at_start_) / seconds : 0.0;
  fmt::print(out_, "{},{},{:.0f},{},{},{},{},{},{},{},{},{},{},{},{}\n", trainer.iteration(), trainer.steps(),
             fps, mean_episode_return(trainer), mean_episode_length(trainer), u.approx_kl, u.clip_fraction,
             u.entropy_loss, u.value_loss, u.policy_gradient_loss, u.explained_variance, u.learning_rate,
             u.clip_range, u.loss, u.n_updates);
  out_.flush();
}

void PodTrackingCallback::on_training_start(const PpoTrainer&) {
  out_ << "step,env,action,replicas\n";
}

void PodTrackingCallback::on_step(const PpoTrainer& trainer) {
  const VecEnv& env = trainer.env();
  const auto actions = trainer.last_actions();
  for (int e = 0; e < env.size(); ++e) {
    std::string replicas;
    for (const auto& [name, value] : env.infos()[e])
      if (name == "replicas") replicas = fmt::format("{}", value);
    fmt::print(out_, "{},{},{},{}\n", trainer.steps(), e, actions[e], replicas);
  }
}

void ProgressBar::on_iteration(const PpoTrainer& trainer) {
  const double now = trainer.seconds();
  if (last_drawn_ >= 0 && now - last_drawn_ < 0.2) return;
  last_drawn_ = now;
  draw(trainer);
}

void ProgressBar::on_training_end(const PpoTrainer& trainer) {
  draw(trainer);
  out_ << "\n";
  out_.flush();
}

void ProgressBar::draw(const PpoTrainer& trainer) {
  constexpr int kWidth = 30;
  const double fraction =
      std::min(1.0, double(trainer.steps()) / double(std::max<std::uint64_t>(1, trainer.total_steps())));
  const int filled = static_cast<int>(fraction * kWidth);
  const double seconds = trainer.seconds();
  const double rate = seconds > 0 ? double(trainer.steps()) / seconds : 0.0;
  const double mean_return = mean_episode_return(trainer);
  fmt::print(out_, "\r[{}{}] {:3.0f}% {}/{} steps  {:.0f} steps/s  mean return {}", std::string(filled, '#'),
             std::string(kWidth - filled, '.'), fraction * 100, trainer.steps(), trainer.total_steps(), rate,
             std::isnan(mean_return) ? std::string("-") : fmt::format("{:.1f}", mean_return));
  out_.flush();
}

}  // namespace maestro::rl
