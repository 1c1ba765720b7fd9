#include "sconectl/manifest/command_line.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace sconectl::manifest {
namespace {

using Words = std::vector<std::string>;

TEST(SplitCommandTest, SplitsLikeAShellWithoutExpanding)
{
  EXPECT_EQ(split_command("python3 print_env.py"), (Words{"python3", "print_env.py"}));
  EXPECT_EQ(split_command("  a   b\tc "), (Words{"a", "b", "c"}));
  EXPECT_EQ(split_command("echo 'x y' \"a \\\"b\\\" $HOME\" c\\ d"),
            (Words{"echo", "x y", "a \"b\" $HOME", "c d"}));
  EXPECT_EQ(split_command("''"), (Words{""}));
  EXPECT_EQ(split_command(""), Words{});
}

TEST(SplitCommandTest, RejectsUnbalancedQuotes)
{
  EXPECT_EQ(split_command("echo 'x"), std::nullopt);
  EXPECT_EQ(split_command("echo \"x"), std::nullopt);
  EXPECT_EQ(split_command("echo x\\"), std::nullopt);
}

TEST(JavaCommandTest, InsertsTheClassPathAfterJava)
{
  EXPECT_EQ(with_java_class_path({"java", "Main"}, "/app:/app/a.jar"),
            (Words{"java", "-cp", "/app:/app/a.jar", "Main"}));
  EXPECT_EQ(with_java_class_path({"/usr/bin/java", "-Xmx1g", "main.java.Main", "-cp"}, "/app"),
            (Words{"/usr/bin/java", "-cp", "/app", "-Xmx1g", "main.java.Main", "-cp"}));
  EXPECT_EQ(with_java_class_path({"java", "--add-opens", "-jar", "Main"}, "/app"),
            (Words{"java", "-cp", "/app", "--add-opens", "-jar", "Main"}));
}

TEST(JavaCommandTest, KeepsAClassPathOrJarTheCommandChose)
{
  for (const auto& words : {Words{"java", "-cp", "x", "Main"},
                            Words{"java", "-Xmx1g", "-classpath", "x", "Main"},
                            Words{"java", "--class-path", "x", "Main"},
                            Words{"java", "--class-path=x", "Main"},
                            Words{"java", "-jar", "app.jar"}}) {
    EXPECT_EQ(with_java_class_path(words, "/app"), words);
  }
}

TEST(JavaCommandTest, LeavesOtherProgramsAlone)
{
  for (const auto& words : {Words{"javac", "Main.java"},
                            Words{"/bin/sh", "-c", "java Main"},
                            Words{"myjava", "Main"},
                            Words{}}) {
    EXPECT_EQ(with_java_class_path(words, "/app"), words);
  }
}

TEST(JavaInputsTest, ListsSourcesSortedAndJarsInCopyOrder)
{
  sconectl::testing::TempDir dir;
  dir.write("Main.java", "class Main {}");
  dir.write("main/java/B.java", "package main.java; class B {}");
  dir.write("main/java/A.java", "package main.java; class A {}");
  dir.write("main/java/app.properties", "a=b");
  dir.write("main/lib/z.jar", "PK");
  dir.write("lib/a.jar", "PK");
  ServiceManifest service{.base_dir = dir.path()};
  service.build.kind = BuildKind::java;
  service.build.copy = {"main/", "Main.java", "lib/a.jar", "main/java/A.java"};
  const auto inputs = java_inputs(service, "/java");
  ASSERT_TRUE(inputs) << inputs.error().message;
  EXPECT_EQ(inputs->sources,
            (Words{"/java/Main.java", "/java/main/java/A.java", "/java/main/java/B.java"}));
  EXPECT_EQ(inputs->jars, (Words{"/java/main/lib/z.jar", "/java/lib/a.jar"}));
  EXPECT_EQ(java_class_path("/java", inputs->jars), "/java:/java/main/lib/z.jar:/java/lib/a.jar");

  service.build.command = "java Main";
  EXPECT_EQ(launch_command(service),
            (Words{"java", "-cp", "/app:/app/main/lib/z.jar:/app/lib/a.jar", "Main"}));
  service.build.kind = BuildKind::python;
  EXPECT_EQ(launch_command(service), (Words{"java", "Main"}));
}

TEST(JavaInputsTest, RejectsFilesThatAreNeitherSourcesNorJars)
{
  sconectl::testing::TempDir dir;
  dir.write("Main.java", "class Main {}");
  dir.write("notes.txt", "x");
  dir.write("lib/a:b.jar", "PK");
  ServiceManifest service{.base_dir = dir.path()};
  service.build.kind = BuildKind::java17;
  service.build.copy = {"Main.java", "notes.txt"};
  auto inputs = java_inputs(service, "/app");
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().field, "build.copy[1]");
  EXPECT_EQ(inputs.error().message,
            "'notes.txt' is neither a .java source, a .jar archive nor a directory; Java kinds "
            "copy only those (put other files the program needs into a copied directory)");
  EXPECT_EQ(java_copy_problem(dir.path(), "notes.txt"), inputs.error().message);
  EXPECT_EQ(java_copy_problem(dir.path(), "lib"), std::nullopt);
  EXPECT_EQ(java_copy_problem(dir.path(), "missing.txt"), std::nullopt);

  service.build.copy = {"lib"};
  inputs = java_inputs(service, "/app");
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().message,
            "'lib/a:b.jar' cannot go on the class path: its name contains ':'");

  service.build.copy = {"missing.java"};
  inputs = java_inputs(service, "/app");
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().message, "'missing.java' does not exist in " + dir.path().string());
}

}  // namespace
}  // namespace sconectl::manifest
