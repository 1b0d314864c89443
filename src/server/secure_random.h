#pragma once
// Secrets for the server: session tokens, generated passwords and user ids,
// all from the kernel's CSPRNG (getrandom). GLib's g_random_* is a Mersenne
// Twister and must never make a token.

#include <cstddef>
#include <string>

namespace callagent::server {

// `n` random bytes as base64url with padding ("=") — Go's
// base64.URLEncoding, which is what the reference server's tokens look like.
std::string random_base64url(std::size_t n);

// `n` random lowercase hex characters.
std::string random_hex(std::size_t n);

}  // namespace callagent::server
