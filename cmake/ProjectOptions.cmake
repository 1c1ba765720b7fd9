# Compiler settings shared by every target of the project, as one INTERFACE target.
# -Wnull-dereference is left out: with GCC 12 it fires inside libstdc++ (std::string::insert).
# sconectl_warnings is the part without sanitizers, for the static runtime executable.
add_library(sconectl_warnings INTERFACE)
target_compile_options(sconectl_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wno-missing-field-initializers)
if(SCONECTL_WARNINGS_AS_ERRORS)
  target_compile_options(sconectl_warnings INTERFACE -Werror)
endif()
add_library(sconectl_options INTERFACE)
target_link_libraries(sconectl_options INTERFACE sconectl_warnings)
if(SCONECTL_SANITIZE)
  target_compile_options(sconectl_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    # -O1, as the sanitizers' documentation suggests, and line tables only (-g1: enough for the
    # file:line of every frame of a report): together they take about half the compile time of
    # -O2 -g under the sanitizers (bench/README.md, "build"), and find the same errors.
    -O1 -g1
    # GCC 12 reports false maybe-uninitialized warnings inside libstdc++'s <regex> under ASan.
    -Wno-maybe-uninitialized)
  target_link_options(sconectl_options INTERFACE -fsanitize=address,undefined)
endif()
