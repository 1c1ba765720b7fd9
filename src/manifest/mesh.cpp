#include "sconectl/manifest/mesh.hpp"

#include <algorithm>

namespace sconectl::manifest {

const CasInstance* cas_for_role(const MeshManifest& mesh, std::string_view role)
{
  for (const auto& cas : mesh.cas) {
    if (cas.name == role
        || std::find(cas.aliases.begin(), cas.aliases.end(), role) != cas.aliases.end()) {
      return &cas;
    }
  }
  return nullptr;
}

}  // namespace sconectl::manifest
