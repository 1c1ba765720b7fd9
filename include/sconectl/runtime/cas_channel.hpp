#pragma once

#include "sconectl/util/error.hpp"
#include "sconectl/util/http1.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace sconectl::runtime {

using ChannelAnswer = http1::Response;

// How the runtime talks to its CAS: a few HTTP requests on one connection.
using CasChannel = http1::Transport;

// A TLS connection to `address` (host[:port], port 8081 by default) whose peer must present the
// public key that `key_hash` names (docs/cas.md, key hashes). The key is checked right after the
// handshake, before a byte of a request is sent; a mismatch is an ErrorKind::tls error naming
// both hashes. No certificate authority is consulted: the pin is the only trust.
[[nodiscard]] Result<std::unique_ptr<CasChannel>> connect_pinned(
    const std::string& address,
    const std::string& key_hash,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace sconectl::runtime
