// Tests of POST /predict body validation: every way a body can be wrong is refused, naming the field.
#include "services/model_server/predict_request.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::model_server {
namespace {

constexpr const char* kValid =
    R"({"cpu_usage":150,"memory_usage":3e8,"replicas":3,"latency":12.5,"rps":100})";

std::string error_of(std::string_view body) {
  auto parsed = parse_predict_request(body);
  return parsed ? "accepted" : parsed.error().message;
}

TEST(PredictRequest, AcceptsTheFiveFields) {
  auto parsed = parse_predict_request(kValid);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_DOUBLE_EQ(parsed->observation.cpu_usage, 150);
  EXPECT_DOUBLE_EQ(parsed->observation.memory_usage, 3e8);
  EXPECT_DOUBLE_EQ(parsed->observation.replicas, 3);
  EXPECT_DOUBLE_EQ(parsed->observation.latency, 12.5);
  EXPECT_DOUBLE_EQ(parsed->observation.rps, 100);
  EXPECT_FALSE(parsed->features.has_value());
}

TEST(PredictRequest, TakesTheFeatureVectorAndNamesTheEntryThatIsWrong) {
  auto parsed = parse_predict_request(
      R"({"cpu_usage":150,"memory_usage":3e8,"replicas":3,"latency":12.5,"rps":100,"features":[1,-2.5,3e2]})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed->features, (std::vector<double>{1, -2.5, 300}));
  const std::string fields = R"("cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1)";
  EXPECT_EQ(error_of("{" + fields + R"(,"features":{"a":1}})"),
            "field 'features' must be an array of numbers, got object");
  EXPECT_EQ(error_of("{" + fields + R"(,"features":[1,"2"]})"),
            "field 'features': features[1] must be a number, got string");
  EXPECT_EQ(error_of("{" + fields + R"(,"features":[1, 2, NaN]})"), "field 'features': features[2] is NaN");
  EXPECT_EQ(error_of("{" + fields + R"(,"features":[-Infinity]})"),
            "field 'features': features[0] is infinite");
  EXPECT_EQ(error_of("{" + fields + R"(,"features":[0,1e400]})"),
            "field 'features': features[1] is infinite (out of range for a double)");
}

TEST(PredictRequest, RefusesBadBodiesNamingTheField) {
  EXPECT_EQ(error_of(R"({"cpu_usage":150,"memory_usage":3e8,"replicas":3,"latency":12.5})"),
            "missing field 'rps'");
  EXPECT_NE(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1,"cpu":2})")
                .find("unknown field 'cpu'"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"cpu_usage":"150","memory_usage":1,"replicas":3,"latency":1,"rps":1})"),
            "field 'cpu_usage' must be a number, got string");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":null,"replicas":3,"latency":1,"rps":1})"),
            "field 'memory_usage' must be a number, got null");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":true,"latency":1,"rps":1})"),
            "field 'replicas' must be a number, got boolean");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":-0.5,"rps":1})"),
            "latency is negative (-0.5)");
  // JSON cannot carry NaN or infinities; bodies that try are still refused naming the field.
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1e999})"),
            "field 'rps' is infinite (out of range for a double)");
  EXPECT_EQ(error_of(R"({"cpu_usage":NaN,"memory_usage":1,"replicas":3,"latency":1,"rps":1})"),
            "field 'cpu_usage' is NaN");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":-Infinity,"replicas":3,"latency":1,"rps":1})"),
            "field 'memory_usage' is infinite");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1,})"),
            "body is not valid JSON");
  EXPECT_EQ(error_of(R"([1,2,3,4,5])").rfind("body must be a JSON object", 0), 0u);
  EXPECT_EQ(error_of(R"({"cpu_usage":1,)"), "body is not valid JSON");
  EXPECT_EQ(error_of(""), "body is not valid JSON");
}

// A field given twice (nlohmann would keep the last), and replicas that are no count of pods.
TEST(PredictRequest, RefusesDuplicateFieldsAndReplicasThatAreNoCountOfPods) {
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1,"replicas":30})"),
            "field 'replicas' is given more than once");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3,"latency":1,"rps":1,"features":[1],)"
                     R"("features":[2]})"),
            "field 'features' is given more than once");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":3.5,"latency":1,"rps":1})"),
            "field 'replicas' must be a whole number of pods from 0 to 2147483647, got 3.5");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":1e300,"latency":1,"rps":1})"),
            "field 'replicas' must be a whole number of pods from 0 to 2147483647, got 1e+300");
  EXPECT_EQ(error_of(R"({"cpu_usage":1,"memory_usage":1,"replicas":2147483648,"latency":1,"rps":1})")
                .rfind("field 'replicas' must be a whole number", 0),
            0u);
  EXPECT_TRUE(
      parse_predict_request(R"({"cpu_usage":1,"memory_usage":1,"replicas":3.0,"latency":1,"rps":1})"));
}

RC_GTEST_PROP(PredictRequest, AnyNonNegativeFiniteNumbersAndWholeReplicasAreAccepted, ()) {
  const auto values = *rc::gen::container<std::vector<double>>(
      5, rc::gen::map(rc::gen::arbitrary<double>(),
                      [](double v) { return std::isfinite(v) ? std::abs(v) : 1.0; }));
  const auto replicas = *rc::gen::inRange(0, 1'000'000);
  const std::string body =
      fmt::format(R"({{"rps":{},"latency":{},"replicas":{},"memory_usage":{},"cpu_usage":{}}})", values[4],
                  values[3], replicas, values[1], values[0]);
  auto parsed = parse_predict_request(body);
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(parsed->observation.cpu_usage == values[0]);
  RC_ASSERT(parsed->observation.rps == values[4]);
}

}  // namespace
}  // namespace maestro::model_server
