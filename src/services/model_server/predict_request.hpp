// The body of POST /predict (DESIGN §2): a JSON object with exactly the five observation fields, each a
// finite, non-negative number. Anything else is refused with a message naming the field, so that a caller
// with a typo or a unit mix-up hears about it instead of getting an action.
#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/observation.hpp"

namespace maestro::model_server {

Result<core::Observation> parse_predict_request(std::string_view body);

}  // namespace maestro::model_server
