#include "server/secure_random.h"

#include "common/gref.h"

#include <glib.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace callagent::server {

namespace {

void fill_random(unsigned char* p, std::size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // No entropy source means no safe token: refuse to run on rather than
      // hand out guessable sessions.
      g_error("getrandom failed: %s", g_strerror(errno));
      std::abort();
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

}  // namespace

std::string random_base64url(std::size_t n) {
  std::vector<unsigned char> bytes(n);
  fill_random(bytes.data(), n);
  std::string out = GCharPtr(g_base64_encode(bytes.data(), n)).get();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

std::string random_hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<unsigned char> bytes((n + 1) / 2);
  fill_random(bytes.data(), bytes.size());
  std::string out;
  out.reserve(n);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    if (out.size() < n) out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace callagent::server
