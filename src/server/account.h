#pragma once
// The server's one account: the messenger has a single account, whose name
// and password are server configuration. Holds the name and password and
// checks login attempts against them in constant time, so the time a wrong
// guess takes tells nothing about how much of it was right.

#include <array>
#include <string>
#include <string_view>

namespace callagent::server {

class Account {
 public:
  Account(std::string user, std::string_view password);

  // True when both match. Compares SHA-256 digests of both fields with a
  // constant-time loop, and always compares both, so neither the length nor
  // the first differing byte of a guess shows in the timing.
  bool verify(std::string_view user, std::string_view password) const;

  const std::string& user() const { return user_; }

  // A password for `serve --demo`: 16 random bytes, base64url (22 chars).
  static std::string generate_password();

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest digest(std::string_view s);
  static bool equal(const Digest& a, const Digest& b);

  std::string user_;
  Digest user_digest_{};
  Digest password_digest_{};  // the password itself is not kept
};

}  // namespace callagent::server
