// Reading the body of POST /predict (model_server/predict_body.hpp): the direct reader, which takes the
// bodies clients send, against nlohmann's SAX parser, which reads any JSON, on the body
// bench/predict_http_post.lua sends and on one with a history policy's 15 features.
#include <string_view>

#include <benchmark/benchmark.h>

#include "services/model_server/predict_body.hpp"

namespace {

using namespace maestro::model_server;

constexpr std::string_view kObservation =
    R"({"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100})";
constexpr std::string_view kWithFeatures =
    R"({"cpu_usage":150,"memory_usage":300000000,"replicas":3,"latency":12.5,"rps":100,"features":)"
    R"([150,0.2857,3,12.5,100,0.05,-0.125,1.5,0.75,2,118.25,96.5,0,1,0.3333333333333333]})";

void read_body(benchmark::State& state, bool (*read)(std::string_view, PredictBody&), std::string_view text) {
  for (auto _ : state) {
    PredictBody body;
    benchmark::DoNotOptimize(read(text, body));
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK_CAPTURE(read_body, plain_observation, read_plain_predict_body, kObservation);
BENCHMARK_CAPTURE(read_body, json_observation, read_json_predict_body, kObservation);
BENCHMARK_CAPTURE(read_body, plain_with_features, read_plain_predict_body, kWithFeatures);
BENCHMARK_CAPTURE(read_body, json_with_features, read_json_predict_body, kWithFeatures);

}  // namespace
