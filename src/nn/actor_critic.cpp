#include "nn/actor_critic.hpp"

#include <cmath>

#include <Eigen/QR>

namespace maestro::nn {

namespace {
MlpShape with_hidden(int input, const std::vector<int>& hidden, int output) {
  MlpShape shape;
  shape.sizes.push_back(input);
  shape.sizes.insert(shape.sizes.end(), hidden.begin(), hidden.end());
  shape.sizes.push_back(output);
  return shape;
}

std::vector<int> hidden_of(const MlpShape& shape) {
  return {shape.sizes.begin() + 1, shape.sizes.end() - 1};
}
}  // namespace

MlpShape ActorCriticShape::actor() const {
  return with_hidden(observation_size, actor_hidden, action_count);
}
MlpShape ActorCriticShape::critic() const {
  return with_hidden(observation_size, critic_hidden, 1);
}

Result<ActorCriticShape> validate(const ActorCriticShape& shape) {
  if (shape.action_count < 2) return fail("a policy needs at least 2 actions, got {}", shape.action_count);
  if (auto actor = validate(shape.actor()); !actor) return fail("actor: {}", actor.error().message);
  if (auto critic = validate(shape.critic()); !critic) return fail("critic: {}", critic.error().message);
  return shape;
}

template <typename S>
ActorCriticShape ActorCritic<S>::shape() const {
  return ActorCriticShape{actor.shape().input_size(), actor.shape().output_size(), hidden_of(actor.shape()),
                          hidden_of(critic.shape())};
}

void orthogonal_init(Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> weight,
                     double gain, Rng& rng) {
  const Eigen::Index rows = weight.rows(), cols = weight.cols();
  // As torch: QR of a normal (tall) matrix, Q's columns sign-corrected by diag(R) so the result is
  // uniformly distributed; transposed when the weight is wide.
  const bool wide = rows < cols;
  Eigen::MatrixXd normal(wide ? cols : rows, wide ? rows : cols);
  for (Eigen::Index c = 0; c < normal.cols(); ++c)
    for (Eigen::Index r = 0; r < normal.rows(); ++r) normal(r, c) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(normal);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(normal.rows(), normal.cols());
  const Eigen::MatrixXd r = qr.matrixQR().topRows(normal.cols()).triangularView<Eigen::Upper>();
  for (Eigen::Index c = 0; c < q.cols(); ++c)
    if (r(c, c) < 0) q.col(c) *= -1;
  if (wide) q.transposeInPlace();
  weight = (q * gain).cast<float>();
}

ActorCritic<float> initialise(const ActorCriticShape& shape, Rng& rng) {
  ActorCritic<float> network(shape);
  const double hidden_gain = std::sqrt(2.0);
  auto init = [&](Mlp<float>& mlp, double head_gain) {
    const int layers = mlp.shape().layer_count();
    for (int l = 0; l < layers; ++l) {
      orthogonal_init(mlp.weight(l), l == layers - 1 ? head_gain : hidden_gain, rng);
      mlp.bias(l).setZero();
    }
  };
  init(network.actor, 0.01);
  init(network.critic, 1.0);
  return network;
}

template struct ActorCritic<float>;
template struct ActorCritic<double>;

}  // namespace maestro::nn
