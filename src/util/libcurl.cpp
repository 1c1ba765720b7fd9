#include "sconectl/util/libcurl.hpp"

#include "sconectl/util/shared_library.hpp"

namespace sconectl::util {

namespace {

// The soname of the ABI the headers describe: libcurl 7 and 8 are both libcurl.so.4.
static_assert(LIBCURL_VERSION_MAJOR == 7 || LIBCURL_VERSION_MAJOR == 8);
constexpr const char* k_soname = "libcurl.so.4";

Libcurl g_functions{};

Result<const Libcurl*> load()
{
  auto library = SharedLibrary::open(k_soname, "to talk to a CAS or a registry");
  if (!library) {
    return forward_error(std::move(library.error()));
  }
  Libcurl& f = g_functions;
  const bool bound = library->bind(f.global_init, "curl_global_init")
                     && library->bind(f.easy_init, "curl_easy_init")
                     && library->bind(f.easy_setopt, "curl_easy_setopt")
                     && library->bind(f.easy_perform, "curl_easy_perform")
                     && library->bind(f.easy_getinfo, "curl_easy_getinfo")
                     && library->bind(f.easy_cleanup, "curl_easy_cleanup")
                     && library->bind(f.easy_strerror, "curl_easy_strerror")
                     && library->bind(f.easy_option_by_id, "curl_easy_option_by_id")
                     && library->bind(f.slist_append, "curl_slist_append")
                     && library->bind(f.slist_free_all, "curl_slist_free_all");
  if (!bound) {
    return fail(ErrorKind::io,
                std::string(k_soname) + " lacks functions sconectl needs (libcurl 7.73 or later)");
  }
  if (f.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return fail(ErrorKind::internal, "libcurl could not be initialised");
  }
  return &g_functions;
}

}  // namespace

Result<const Libcurl*> load_libcurl()
{
  static const Result<const Libcurl*> loaded = load();  // thread-safe, once
  return loaded;
}

const Libcurl& libcurl()
{
  return g_functions;
}

}  // namespace sconectl::util
