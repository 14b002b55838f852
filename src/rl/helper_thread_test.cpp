#include "rl/helper_thread.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace maestro::rl {
namespace {

TEST(HelperThread, FreeCoresAreAtLeastOneAndAtMostTheMachines) {
  EXPECT_GE(free_cores(), 1);
  EXPECT_LE(unsigned(free_cores()), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(HelperThread, FinishWithNothingPostedReturnsAtOnce) {
  HelperThread helper;
  helper.finish();
  helper.finish();
}

TEST(HelperThread, EachPostedJobRunsOnceAndItsResultIsSeenAfterFinish) {
  HelperThread helper;
  long runs = 0;  // plain: finish() orders the job's writes before the reads here
  for (int i = 0; i < 20000; ++i) {
    helper.post([&runs] { ++runs; });
    if (i % 3 == 0) std::this_thread::yield();  // sometimes the helper takes it, sometimes the poster
    helper.finish();
    ASSERT_EQ(runs, i + 1);
    if (i % 7 == 0) helper.finish();  // a second finish() of the same job neither waits nor runs it again
    ASSERT_EQ(runs, i + 1);
  }
}

TEST(HelperThread, ThePosterWorksBesideTheJob) {
  HelperThread helper;
  std::vector<int> a(1000), b(1000);
  for (int round = 0; round < 100; ++round) {
    helper.post([&] {
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = round + int(i);
    });
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = round - int(i);
    helper.finish();
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i], round - int(i));
      ASSERT_EQ(b[i], round + int(i));
    }
  }
}

}  // namespace
}  // namespace maestro::rl
