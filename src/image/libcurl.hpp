#pragma once

// Private to image/: the libcurl functions the registry client uses, from the library loaded on
// first use (util::SharedLibrary), so that commands that ask no registry do not load it. cas/ has
// its own loader for the CAS client; both open the same library, once.

#include "sconectl/util/error.hpp"

#include <curl/curl.h>

namespace sconectl::image {

struct Libcurl {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  void (*easy_cleanup)(CURL* handle);
  const char* (*easy_strerror)(CURLcode code);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl and runs curl_global_init, once per process.
[[nodiscard]] Result<const Libcurl*> load_libcurl();

}  // namespace sconectl::image
