// The action encoding of DESIGN §2: 0 scale down by one step, 1 hold, 2 scale up by one step.
#pragma once

#include <optional>
#include <string_view>

namespace maestro::core {

enum class Action : int { kScaleDown = 0, kHold = 1, kScaleUp = 2 };

inline constexpr int kActionCount = 3;

// "scale_down", "hold", "scale_up"
std::string_view action_name(Action action);
// The action for an integer code, or nothing if the code is not 0, 1 or 2.
std::optional<Action> action_from_code(int code);

}  // namespace maestro::core
