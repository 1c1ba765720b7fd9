// Test tool: records a service in a target directory as `apply -f service.yaml` would, with
// made-up image ids and measurement, so integration tests can apply its mesh without Docker.
//   record_service SERVICE_MANIFEST TARGET_DIR
#include "mesh_fixture.hpp"

#include <iostream>

int main(int argc, char** argv)
{
  if (argc != 3) {
    std::cerr << "usage: record_service SERVICE_MANIFEST TARGET_DIR\n";
    return 2;
  }
  try {
    sconectl::testing::record_service(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "record_service: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
