// What the suggestion server asks besides Prometheus, as small interfaces so that it can be tested against
// fakes and wired to the real clients: the Kubernetes API (a deployment's replicas and annotations) and the
// model server (the action for an observation).
#pragma once

#include <array>
#include <map>
#include <string>

#include "core/action.hpp"
#include "core/error.hpp"
#include "core/observation.hpp"

namespace maestro::suggestion_server {

struct DeploymentInfo {
  int replicas = 0;  // spec.replicas
  std::map<std::string, std::string> annotations;
};

class DeploymentSource {
 public:
  virtual ~DeploymentSource() = default;
  virtual Result<DeploymentInfo> get(const std::string& namespace_name, const std::string& name) = 0;
};

struct ModelAnswer {
  core::Action action = core::Action::kHold;
  std::array<double, core::kActionCount> probabilities{};  // all zero if the model sent none
  std::string model_version;
};

class ActionModel {
 public:
  virtual ~ActionModel() = default;
  virtual Result<ModelAnswer> predict(const core::Observation& observation) = 0;
};

}  // namespace maestro::suggestion_server
