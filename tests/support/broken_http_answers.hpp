#pragma once

// Answers no HTTP/1.1 reader may take, each with the words its error must contain: the message
// reader's own test (util/http1) and every transport built on it (the Docker Engine socket) use
// the same table, so a transport is known to pass each refusal on.

#include <string>
#include <utility>
#include <vector>

namespace sconectl::testing {

inline std::vector<std::pair<std::string, std::string>> broken_http_answers()
{
  return {
      {"garbage\r\n\r\n", "did not answer in HTTP/1"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "no status code"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "in the middle of its answer"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
       "chunk of the wrong size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n", "too large"},
  };
}

}  // namespace sconectl::testing
