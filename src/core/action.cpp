#include "core/action.hpp"

namespace maestro::core {

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kScaleDown:
      return "scale_down";
    case Action::kHold:
      return "hold";
    case Action::kScaleUp:
      return "scale_up";
  }
  return "unknown";
}

std::optional<Action> action_from_code(int code) {
  if (code < 0 || code >= kActionCount) return std::nullopt;
  return static_cast<Action>(code);
}

}  // namespace maestro::core
