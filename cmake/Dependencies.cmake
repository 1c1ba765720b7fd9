# Every third-party dependency, all from Debian bookworm packages (see scripts/install-deps.sh).
find_package(CLI11 2.1 CONFIG REQUIRED)
find_package(yaml-cpp 0.7 CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CURL 7.88 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(spdlog 1.10 CONFIG REQUIRED)
find_package(tl-expected 1.0 CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(LibArchive 3.6 REQUIRED)
# The local CAS (sconectl cas serve): HTTPS server and durable session store.
find_package(SQLite3 3.40 REQUIRED)
# libyaml: a strict syntax pre-check in front of yaml-cpp (see src/manifest/yaml_syntax.hpp).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
# Debian builds cpp-httplib as a library with OpenSSL support and ships only a pkg-config file.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)

# yaml-cpp 0.7 exports a target without namespace.
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()

if(SCONECTL_BUILD_TESTS)
  find_package(GTest 1.12 REQUIRED)
endif()
