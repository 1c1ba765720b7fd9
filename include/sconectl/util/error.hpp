#pragma once

#include "sconectl/util/diagnostic.hpp"

#include <tl/expected.hpp>

#include <string>
#include <vector>

namespace sconectl {

// What went wrong, coarse enough to pick an exit code and a troubleshooting section.
enum class ErrorKind {
  usage,     // bad command line
  manifest,  // invalid manifest or other user input
  io,        // local files
  process,   // a child process (docker, helm) failed
  network,   // connection, DNS, timeout
  tls,       // certificate verification, handshake
  server,    // a remote service answered with an error
  conflict,  // a concurrent change (e.g. a stale predecessor)
  internal,  // a bug in sconectl
};

// The one error type that crosses module boundaries. `message` is a single line, `context` holds
// breadcrumbs from the outermost operation inwards, `diagnostics` the individual manifest problems
// when there are several.
struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::vector<std::string> context;
  std::vector<Diagnostic> diagnostics;
  // Multi-line output that explains the failure (e.g. a failed build's log), shown before it.
  std::string details;

  // Adds an outer breadcrumb, e.g. "building image 'x'".
  Error& with_context(std::string what);
  // "<outermost context>: ... : <message>".
  [[nodiscard]] std::string describe() const;
};

template <class T>
using Result = tl::expected<T, Error>;

// Shorthand for returning a failure: `return fail(ErrorKind::io, "cannot read " + path);`.
[[nodiscard]] tl::unexpected<Error> fail(ErrorKind kind, std::string message);
[[nodiscard]] tl::unexpected<Error> fail(Error error);

// The one way to pass a failure from a call on to the caller. With `context`, it says what was
// being done ("building image 'x'"), which describe() puts before the cause; without, for causes
// whose own message already names the file, field or peer.
//   if (!read) { return forward_error(std::move(read.error()), "reading " + path); }
[[nodiscard]] tl::unexpected<Error> forward_error(Error error);
[[nodiscard]] tl::unexpected<Error> forward_error(Error error, std::string context);

// TRY(expression): evaluates a Result and, on failure, returns its error from the enclosing
// function (which returns a Result), as forward_error without context does. For calls whose value
// is not needed:
//   TRY(fs::write_file_atomically(path, text, 0600));
// Where the value is needed, or the failure needs a context, write the `if` out.
#define TRY(expression)                                                 \
  do {                                                                  \
    if (auto try_result_ = (expression); !try_result_) {                \
      return ::sconectl::forward_error(std::move(try_result_.error())); \
    }                                                                   \
  } while (false)

// The documented exit codes (README, "Exit codes"). Computed here and nowhere else.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;
inline constexpr int invalid_input = 2;
inline constexpr int changes = 3;  // `diff`: the CAS differs from what the manifests produce
}  // namespace exit_code

[[nodiscard]] int exit_code_for(ErrorKind kind);

[[nodiscard]] const char* to_string(ErrorKind kind);

}  // namespace sconectl
