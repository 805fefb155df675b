// Test runner: GoogleTest, plus one closing line "tests: N passed, N
// failed, N skipped" that CI logs and scripts can read.
#include <gtest/gtest.h>

#include <cstdio>

#include "tensor/device.h"

namespace {

class Summary : public testing::EmptyTestEventListener {
  void OnTestProgramEnd(const testing::UnitTest& u) override {
    std::printf("tests: %d passed, %d failed, %d skipped\n", u.successful_test_count(),
                u.failed_test_count(), u.skipped_test_count());
  }
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::printf("%s\n", sirs::cuda_status().c_str());
  testing::UnitTest::GetInstance()->listeners().Append(new Summary);
  return RUN_ALL_TESTS();
}
