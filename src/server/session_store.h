#pragma once
// Login sessions, in memory only: a server restart invalidates every token,
// as the messenger's own server does. A session lives `ttl` from login (24 h, the cookie's
// Max-Age) and then is gone.
//
// Tokens are not stored: the map's keys are SHA-256 digests of them, so a
// lookup's timing depends on the digest, not on how much of a guessed token
// matches a real one, and a memory dump holds no usable token.
//
// At most `max_sessions` live at once; when full, expired sessions are
// dropped first, then the oldest, so a login flood cannot grow memory.

#include "server/clock.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace callagent::server {

class SessionStore {
 public:
  SessionStore(std::chrono::seconds ttl, std::size_t max_sessions, Clock clock = system_clock());

  // Starts a session and returns its token (base64url, 32 random bytes).
  std::string create();
  // True when `token` belongs to a live session.
  bool valid(std::string_view token);
  // Ends the session of `token`, if any. Returns whether one ended.
  bool remove(std::string_view token);
  void clear() { sessions_.clear(); }

  std::size_t size() const { return sessions_.size(); }
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  static std::string key_of(std::string_view token);
  void drop_expired(SteadyTime now);
  void drop_oldest();

  std::chrono::seconds ttl_;
  std::size_t max_sessions_;
  Clock clock_;
  std::unordered_map<std::string, SteadyTime> sessions_;  // key -> expiry
};

}  // namespace callagent::server
