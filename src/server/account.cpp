#include "server/account.h"

#include "server/secure_random.h"

#include <glib.h>

namespace callagent::server {

Account::Account(std::string user, std::string_view password)
    : user_(std::move(user)), user_digest_(digest(user_)), password_digest_(digest(password)) {}

bool Account::verify(std::string_view user, std::string_view password) const {
  // Both comparisons always run; `&` (not `&&`) keeps them unconditional.
  bool user_ok = equal(digest(user), user_digest_);
  bool password_ok = equal(digest(password), password_digest_);
  return user_ok & password_ok;
}

std::string Account::generate_password() {
  std::string p = random_base64url(16);
  while (!p.empty() && p.back() == '=') p.pop_back();
  return p;
}

Account::Digest Account::digest(std::string_view s) {
  Digest d{};
  GChecksum* c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, reinterpret_cast<const guchar*>(s.data()), static_cast<gssize>(s.size()));
  gsize len = d.size();
  g_checksum_get_digest(c, d.data(), &len);
  g_checksum_free(c);
  return d;
}

bool Account::equal(const Digest& a, const Digest& b) {
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace callagent::server
