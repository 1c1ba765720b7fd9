#pragma once

// libcurl's functions, from the library loaded on first use (util::SharedLibrary), so that
// commands that talk to no CAS and ask no registry do not load it: one loader for the CAS client
// (cas/) and the registry client (image/).

#include "sconectl/util/error.hpp"

#include <curl/curl.h>

namespace sconectl::util {

struct Libcurl {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL* handle, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL* handle);
  CURLcode (*easy_getinfo)(CURL* handle, CURLINFO info, ...);
  void (*easy_cleanup)(CURL* handle);
  const char* (*easy_strerror)(CURLcode code);
  const curl_easyoption* (*easy_option_by_id)(CURLoption option);
  curl_slist* (*slist_append)(curl_slist* list, const char* text);
  void (*slist_free_all)(curl_slist* list);
};

// Loads libcurl and runs curl_global_init, once per process.
[[nodiscard]] Result<const Libcurl*> load_libcurl();

// The loaded functions; only after load_libcurl() succeeded.
[[nodiscard]] const Libcurl& libcurl();

}  // namespace sconectl::util
