#pragma once

#include "sconectl/util/error.hpp"

#include <cstring>
#include <string>

// A shared library opened when it is first needed (dlopen), not when sconectl starts. libcurl and
// libarchive bring some forty libraries with them (TLS, Kerberos, LDAP, ICU, compressors), whose
// loading and relocation cost more than most commands do; only the commands that talk to a CAS or
// read an image archive load them.
namespace sconectl::util {

class SharedLibrary {
 public:
  // Opens `soname` once per process and keeps it open. The error names the library, what it was
  // needed for (`purpose`, "to talk to a CAS") and the loader's reason.
  [[nodiscard]] static Result<SharedLibrary> open(const std::string& soname,
                                                  const std::string& purpose);

  // Sets `function` to the library's `symbol`; false when it has none.
  template <class Function>
  [[nodiscard]] bool bind(Function*& function, const char* symbol) const
  {
    void* address = find(symbol);
    if (address == nullptr) {
      return false;
    }
    static_assert(sizeof function == sizeof address);
    std::memcpy(&function, &address, sizeof function);  // POSIX: dlsym's answer is callable
    return true;
  }

  [[nodiscard]] const std::string& soname() const { return m_soname; }

 private:
  SharedLibrary(void* handle, std::string soname) : m_handle(handle), m_soname(std::move(soname)) {}
  [[nodiscard]] void* find(const char* symbol) const;

  void* m_handle;
  std::string m_soname;
};

}  // namespace sconectl::util
