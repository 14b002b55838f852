#include "services/model_server/policy_slot.hpp"

namespace maestro::model_server {

const core::ActionSet& ServedPolicy::action_set() const {
  static const core::ActionSet original = core::original_action_set();
  return original;
}

Result<std::shared_ptr<const ServedPolicy>> PolicySlot::load(const std::filesystem::path& file) {
  auto loaded = loader_(file);
  if (!loaded) return fail("policy {} refused: {}", file.string(), loaded.error().message);
  if (*loaded == nullptr) return fail("policy {} refused: the loader gave nothing", file.string());
  current_.store(*loaded, std::memory_order_release);
  return *loaded;
}

}  // namespace maestro::model_server
