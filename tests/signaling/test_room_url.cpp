// Parsing ROOM and --server (src/signaling/room_url.h).
#include "signaling/room_url.h"

#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <string>

using namespace callagent;
using namespace callagent::signaling;

namespace {
const char* kUuid = "3f2b8c1e-9a4d-4e8b-b1c2-0d9e8f7a6b5c";

RoomTarget ok(std::string_view room, std::string_view server = "") {
  auto r = parse_room_target(room, server);
  INFO("ROOM=" << room << " --server=" << server);
  if (!r) FAIL("unexpected error: " << r.error().message);
  return *r;
}

std::string usage_error(std::string_view room, std::string_view server = "") {
  auto r = parse_room_target(room, server);
  INFO("ROOM=" << room << " --server=" << server);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ExitCode::Usage);
  return r.error().message;
}

using callagent::test::contains;
}  // namespace

TEST_CASE("room URL as /create prints it") {
  auto t = ok(std::string("http://127.0.0.1:8080/room/") + kUuid);
  CHECK(t.base_url == "http://127.0.0.1:8080");
  CHECK(t.room_id == kUuid);
}

TEST_CASE("room URL: default ports, https, upper-case scheme") {
  CHECK(ok("https://chat.example.com/room/abc").base_url == "https://chat.example.com");
  CHECK(ok("http://chat.example.com/room/abc").base_url == "http://chat.example.com");
  CHECK(ok("HTTPS://chat.example.com:8443/room/abc").base_url == "https://chat.example.com:8443");
}

TEST_CASE("room URL: trailing slash, query string and fragment are ignored") {
  CHECK(ok("http://h:1/room/abc/").room_id == "abc");
  CHECK(ok("http://h:1/room/abc?video=1&x=2").room_id == "abc");
  CHECK(ok("http://h:1/room/abc/?x#frag").room_id == "abc");
  CHECK(ok("http://h:1/room/abc#frag").base_url == "http://h:1");
}

TEST_CASE("room URL: IPv6 literals keep their brackets in the base URL") {
  auto t = ok("http://[::1]:8080/room/abc");
  CHECK(t.base_url == "http://[::1]:8080");
  CHECK(t.room_id == "abc");
  CHECK(ok("https://[2001:db8::7]/room/x").base_url == "https://[2001:db8::7]");
}

TEST_CASE("room URL: a path prefix (reverse proxy) stays in the base URL") {
  auto t = ok("https://example.com/messenger/room/abc");
  CHECK(t.base_url == "https://example.com/messenger");
  CHECK(ws_url(t.base_url, t.room_id) == "https://example.com/messenger/ws?room=abc");
}

TEST_CASE("room URL wins over --server") {
  auto t = ok("http://a:1/room/abc", "http://b:2");
  CHECK(t.base_url == "http://a:1");
}

TEST_CASE("bare id with --server") {
  auto t = ok(kUuid, "http://127.0.0.1:8080/");
  CHECK(t.base_url == "http://127.0.0.1:8080");
  CHECK(t.room_id == kUuid);
  CHECK(ok("abc", "https://[::1]:9443").base_url == "https://[::1]:9443");
}

TEST_CASE("bare id without a server says how to give one") {
  auto m = usage_error(kUuid);
  CHECK(contains(m, "--server"));
  CHECK(contains(m, "bare room id"));
}

TEST_CASE("ws:// and wss:// given by mistake") {
  auto m = usage_error("ws://127.0.0.1:8080/ws?room=abc");
  CHECK(contains(m, "WebSocket"));
  CHECK(contains(m, "/room/"));
  usage_error("wss://example.com/room/abc");
  auto s = normalize_server_url("ws://127.0.0.1:8080");
  REQUIRE_FALSE(s.ok());
  CHECK(contains(s.error().message, "WebSocket"));
}

TEST_CASE("the /ws endpoint given as ROOM") {
  auto m = usage_error("http://127.0.0.1:8080/ws?room=abc");
  CHECK(contains(m, "WebSocket endpoint"));
}

TEST_CASE("malformed room URLs name what is wrong") {
  CHECK(contains(usage_error("http://h/room/"), "no room id"));
  CHECK(contains(usage_error("http://h/room/a/b"), "extra path"));
  CHECK(contains(usage_error("http://h/rooms/abc"), "not a room URL"));
  CHECK(contains(usage_error("http://h:99999/room/abc"), "not a valid URL"));
  CHECK(contains(usage_error("ftp://h/room/abc"), "unsupported scheme"));
  CHECK(contains(usage_error("http://admin:secret@h/room/abc"), "credentials"));
  CHECK(contains(usage_error("http://h/room/a%20b"), "not a valid room id"));
  CHECK(contains(usage_error("example.com/room/abc"), "http://"));
  CHECK(contains(usage_error("a b", "http://h"), "not a valid room id"));
  CHECK(contains(usage_error(""), "empty"));
}

TEST_CASE("a bad --server with a bare id is reported") {
  CHECK(contains(usage_error("abc", "127.0.0.1:8080"), "no scheme"));
  CHECK(contains(usage_error("abc", "http://h/?x=1"), "query"));
  CHECK(contains(usage_error("abc", "http://h/room/xyz"), "room URL"));
}

TEST_CASE("normalize_server_url") {
  CHECK(*normalize_server_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080");
  CHECK(*normalize_server_url("https://example.com/prefix/") == "https://example.com/prefix");
  CHECK(*normalize_server_url("http://[::1]:80") == "http://[::1]:80");
  auto empty = normalize_server_url("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == ExitCode::Usage);
}

TEST_CASE("endpoint and WebSocket URLs") {
  CHECK(endpoint_url("http://h:1", "login") == "http://h:1/login");
  CHECK(endpoint_url("http://h:1/", "/create") == "http://h:1/create");
  CHECK(ws_url("https://h", "abc-1") == "https://h/ws?room=abc-1");
  CHECK(room_page_url("http://[::1]:8080", "abc") == "http://[::1]:8080/room/abc");
}

TEST_CASE("room id validation") {
  CHECK(is_valid_room_id(kUuid));
  CHECK(is_valid_room_id("a.b_c~d"));
  CHECK_FALSE(is_valid_room_id(""));
  CHECK_FALSE(is_valid_room_id("a/b"));
  CHECK_FALSE(is_valid_room_id("a?b"));
  CHECK_FALSE(is_valid_room_id(std::string(300, 'a')));
}
