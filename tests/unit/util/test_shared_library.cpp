#include "sconectl/util/shared_library.hpp"

#include <gtest/gtest.h>

namespace sconectl::util {
namespace {

TEST(SharedLibrary, BindsTheFunctionsOfALibraryLoadedWhenAsked)
{
  auto library = SharedLibrary::open("libc.so.6", "to test");
  ASSERT_TRUE(library) << library.error().message;
  std::size_t (*length)(const char*) = nullptr;
  ASSERT_TRUE(library->bind(length, "strlen"));
  EXPECT_EQ(length("sconectl"), 8U);
  int (*absent)() = nullptr;
  EXPECT_FALSE(library->bind(absent, "sconectl_no_such_function"));
  EXPECT_EQ(absent, nullptr);
}

TEST(SharedLibrary, AMissingLibraryIsAnErrorThatSaysWhatNeedsIt)
{
  auto library = SharedLibrary::open("libsconectl-absent.so.1", "to read image archives");
  ASSERT_FALSE(library);
  EXPECT_EQ(library.error().kind, ErrorKind::io);
  EXPECT_NE(library.error().message.find("libsconectl-absent.so.1 to read image archives"),
            std::string::npos)
      << library.error().message;
}

}  // namespace
}  // namespace sconectl::util
