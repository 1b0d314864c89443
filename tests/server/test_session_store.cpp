#include "server/session_store.h"

#include "fake_clock.h"

#include <catch2/catch.hpp>

#include <set>

using namespace callagent::server;
using namespace std::chrono_literals;

TEST_CASE("session tokens are base64url of 32 random bytes", "[session]") {
  SessionStore s(24h, 100);
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string t = s.create();
    CHECK(t.size() == 44);  // 32 bytes -> 43 chars + one '=' of padding
    CHECK(t.back() == '=');
    CHECK(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") ==
          std::string::npos);
    CHECK(seen.insert(t).second);
  }
}

TEST_CASE("a session is valid until its ttl is over", "[session]") {
  test::FakeClock clock;
  SessionStore s(24h, 100, clock.clock());
  std::string t = s.create();
  CHECK(s.valid(t));
  clock.advance(24h - 1s);
  CHECK(s.valid(t));
  clock.advance(1s);
  CHECK_FALSE(s.valid(t));
  CHECK(s.size() == 0);  // an expired session found on lookup is dropped
}

TEST_CASE("unknown, empty and altered tokens are not valid", "[session]") {
  SessionStore s(24h, 100);
  std::string t = s.create();
  CHECK_FALSE(s.valid(""));
  CHECK_FALSE(s.valid("nope"));
  std::string altered = t;
  altered[0] = altered[0] == 'A' ? 'B' : 'A';
  CHECK_FALSE(s.valid(altered));
  CHECK_FALSE(s.valid(t.substr(0, 43)));
  CHECK(s.valid(t));
}

TEST_CASE("remove ends a session (logout)", "[session]") {
  SessionStore s(24h, 100);
  std::string a = s.create();
  std::string b = s.create();
  CHECK(s.remove(a));
  CHECK_FALSE(s.remove(a));
  CHECK_FALSE(s.valid(a));
  CHECK(s.valid(b));
}

TEST_CASE("a full store drops expired sessions first, then the oldest", "[session]") {
  test::FakeClock clock;
  SessionStore s(10s, 3, clock.clock());
  std::string old1 = s.create();
  clock.advance(11s);  // old1 expired
  std::string a = s.create();
  clock.advance(1s);
  std::string b = s.create();
  clock.advance(1s);
  std::string c = s.create();  // full: expired old1 goes
  CHECK(s.size() == 3);
  CHECK(s.valid(a));
  CHECK(s.valid(b));
  CHECK(s.valid(c));
  std::string d = s.create();  // full of live ones: the oldest (a) goes
  CHECK(s.size() == 3);
  CHECK_FALSE(s.valid(a));
  CHECK(s.valid(b));
  CHECK(s.valid(d));
}
