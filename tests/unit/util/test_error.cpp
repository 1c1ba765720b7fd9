#include "sconectl/util/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sconectl {
namespace {

Result<void> step(bool succeed, std::vector<std::string>& done, const std::string& name)
{
  if (!succeed) {
    return fail(ErrorKind::io, name + " failed");
  }
  done.push_back(name);
  return {};
}

Result<int> three_steps(bool second_succeeds, std::vector<std::string>& done)
{
  TRY(step(true, done, "first"));
  TRY(step(second_succeeds, done, "second"));
  TRY(step(true, done, "third"));
  return 3;
}

TEST(Try, ReturnsTheFirstFailureAndRunsNothingAfterIt)
{
  std::vector<std::string> done;
  const auto failed = three_steps(false, done);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::io);
  EXPECT_EQ(failed.error().message, "second failed");
  EXPECT_EQ(done, std::vector<std::string>{"first"});
}

TEST(Try, GoesOnWhenEveryStepSucceeds)
{
  std::vector<std::string> done;
  const auto result = three_steps(true, done);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 3);
  EXPECT_EQ(done, (std::vector<std::string>{"first", "second", "third"}));
}

}  // namespace
}  // namespace sconectl
