#include "server/session_store.h"

#include "server/secure_random.h"

#include "common/gref.h"

#include <glib.h>

#include <algorithm>

namespace callagent::server {

SessionStore::SessionStore(std::chrono::seconds ttl, std::size_t max_sessions, Clock clock)
    : ttl_(ttl), max_sessions_(std::max<std::size_t>(1, max_sessions)), clock_(std::move(clock)) {}

std::string SessionStore::create() {
  SteadyTime now = clock_();
  if (sessions_.size() >= max_sessions_) drop_expired(now);
  while (sessions_.size() >= max_sessions_) drop_oldest();
  std::string token = random_base64url(32);
  sessions_[key_of(token)] = now + ttl_;
  return token;
}

bool SessionStore::valid(std::string_view token) {
  if (token.empty()) return false;
  auto it = sessions_.find(key_of(token));
  if (it == sessions_.end()) return false;
  if (clock_() >= it->second) {
    sessions_.erase(it);
    return false;
  }
  return true;
}

bool SessionStore::remove(std::string_view token) {
  if (token.empty()) return false;
  return sessions_.erase(key_of(token)) > 0;
}

std::string SessionStore::key_of(std::string_view token) {
  return GCharPtr(g_compute_checksum_for_data(
                      G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(token.data()), token.size()))
      .get();
}

void SessionStore::drop_expired(SteadyTime now) {
  std::erase_if(sessions_, [now](const auto& kv) { return now >= kv.second; });
}

void SessionStore::drop_oldest() {
  // Same ttl for all, so the earliest expiry is the oldest login. Linear, but
  // only runs when the store is full of live sessions.
  auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

}  // namespace callagent::server
