#include "sconectl/util/shared_library.hpp"

#include <dlfcn.h>

namespace sconectl::util {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname, const std::string& purpose)
{
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = ::dlerror();
    return fail(ErrorKind::io,
                "sconectl needs " + soname + " " + purpose
                    + ", but cannot load it: " + (reason != nullptr ? reason : "unknown reason"));
  }
  return SharedLibrary(handle, soname);
}

void* SharedLibrary::find(const char* symbol) const
{
  return ::dlsym(m_handle, symbol);
}

}  // namespace sconectl::util
