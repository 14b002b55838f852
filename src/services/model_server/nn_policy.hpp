// The model server's policies are policy files (nn/policy.hpp): this adapts nn::Policy to ServedPolicy, and
// is the loader `maestro serve model` runs.
#pragma once

#include <filesystem>
#include <memory>

#include "services/model_server/policy_slot.hpp"

namespace maestro::model_server {

// Loads and checks an autoscaling policy file; its version is the file's payload checksum.
Result<std::shared_ptr<const ServedPolicy>> load_policy_file(const std::filesystem::path& file);

}  // namespace maestro::model_server
