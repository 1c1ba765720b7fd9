#include "sconectl/util/error.hpp"

#include <algorithm>

namespace sconectl {

Error& Error::with_context(std::string what)
{
  context.insert(context.begin(), std::move(what));
  return *this;
}

std::string Error::describe() const
{
  std::string text;
  for (const auto& step : context) {
    text += step;
    text += ": ";
  }
  text += message;
  return text;
}

tl::unexpected<Error> fail(ErrorKind kind, std::string message)
{
  return tl::unexpected<Error>(Error{.kind = kind, .message = std::move(message)});
}

tl::unexpected<Error> fail(Error error)
{
  return tl::unexpected<Error>(std::move(error));
}

tl::unexpected<Error> forward_error(Error error)
{
  return tl::unexpected<Error>(std::move(error));
}

tl::unexpected<Error> forward_error(Error error, std::string context)
{
  error.with_context(std::move(context));
  return tl::unexpected<Error>(std::move(error));
}

int exit_code_for(ErrorKind kind)
{
  switch (kind) {
    case ErrorKind::usage:
    case ErrorKind::manifest:
      return exit_code::invalid_input;
    case ErrorKind::io:
    case ErrorKind::process:
    case ErrorKind::network:
    case ErrorKind::tls:
    case ErrorKind::server:
    case ErrorKind::conflict:
    case ErrorKind::internal:
      return exit_code::failure;
  }
  return exit_code::failure;
}

const char* to_string(ErrorKind kind)
{
  switch (kind) {
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::manifest:
      return "manifest";
    case ErrorKind::io:
      return "io";
    case ErrorKind::process:
      return "process";
    case ErrorKind::network:
      return "network";
    case ErrorKind::tls:
      return "tls";
    case ErrorKind::server:
      return "server";
    case ErrorKind::conflict:
      return "conflict";
    case ErrorKind::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace sconectl
