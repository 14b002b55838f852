// What the body of POST /predict says, before anything is checked (predict_request.hpp checks it), read one
// of two ways: the body clients send, read directly, and any JSON at all, read by nlohmann's SAX parser. The
// direct reader takes only a flat object of the known fields given once each, with numbers for values (an
// array of them for "features"); on anything else it gives up and the SAX parser reads the body again, to
// say what is wrong with it. On every body the direct reader takes, both readers say the very same thing,
// down to the bits of each number (predict_body_test.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/observation.hpp"

namespace maestro::model_server {

inline constexpr std::string_view kFeatures = "features";
inline constexpr std::string_view kCpuRequest = "cpu_request_cores";
// The numeric fields: the observation's, in its order, then the CPU request.
inline constexpr std::size_t kNumberFields = core::Observation::kSize + 1;
inline constexpr std::size_t kCpuRequestIndex = core::Observation::kSize;

struct PredictBody {
  struct Field {
    bool given = false;
    double number = 0;
    const char* non_number = nullptr;  // the JSON type name of a value that is no number
  };

  bool top_level_object = false;
  std::array<Field, kNumberFields> fields;  // the observation's, then the CPU request
  Field features_field;                     // non_number: "features" is not an array
  std::vector<double> features;
  std::optional<std::pair<std::size_t, const char*>> non_number_feature;  // index and type name
  std::optional<std::string> duplicate;      // the first key given twice in any object
  std::optional<std::string> first_unknown;  // the alphabetically first unknown top-level field
};

// The body as clients send it, without a JSON library: false, with `body` left partly filled, if `text` is
// anything else (which need not be wrong: read it with read_json_predict_body then).
bool read_plain_predict_body(std::string_view text, PredictBody& body);

// Any JSON document; false if `text` is not one.
bool read_json_predict_body(std::string_view text, PredictBody& body);

// Whether two readings say the same, numbers compared by their bits (so that -0 and 0 differ).
bool same_reading(const PredictBody& a, const PredictBody& b);

}  // namespace maestro::model_server
