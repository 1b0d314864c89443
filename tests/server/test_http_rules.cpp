#include "server/http_rules.h"

#include <catch2/catch.hpp>

using namespace callagent::server::http;
using namespace std::chrono_literals;
using Tokens = std::vector<std::string>;

TEST_CASE("tokens come from the auth_token cookie and a Bearer header", "[http][auth]") {
  CHECK(offered_tokens(nullptr, nullptr).empty());
  CHECK(offered_tokens("auth_token=abc", nullptr) == Tokens{"abc"});
  CHECK(offered_tokens("a=1; auth_token=abc; b=2", nullptr) == Tokens{"abc"});
  CHECK(offered_tokens("a=1;auth_token=ab-_c=", nullptr) == Tokens{"ab-_c="});  // '=' in a value
  CHECK(offered_tokens("auth_token=\"abc\"", nullptr) == Tokens{"abc"});
  CHECK(offered_tokens("xauth_token=abc; auth_tokenx=def", nullptr).empty());
  CHECK(offered_tokens("auth_token=", nullptr).empty());
  // Repeated Cookie headers, joined by libsoup with ", ".
  CHECK(offered_tokens("a=1, auth_token=abc", nullptr) == Tokens{"abc"});
  CHECK(offered_tokens("auth_token=old; auth_token=new", nullptr) == Tokens{"old", "new"});

  CHECK(offered_tokens(nullptr, "Bearer xyz") == Tokens{"xyz"});
  CHECK(offered_tokens(nullptr, "bearer   xyz  ") == Tokens{"xyz"});
  CHECK(offered_tokens(nullptr, "Basic eHl6") .empty());
  CHECK(offered_tokens(nullptr, "Bearer").empty());
  CHECK(offered_tokens(nullptr, "Bearerxyz").empty());
  CHECK(offered_tokens("auth_token=c", "Bearer b") == Tokens{"c", "b"});
}

TEST_CASE("unauthenticated: 303 to /login only when Accept has text/html", "[http][auth]") {
  CHECK(unauthorized_response(nullptr) == Unauthorized::PlainText401);
  CHECK(unauthorized_response("*/*") == Unauthorized::PlainText401);
  CHECK(unauthorized_response("application/json") == Unauthorized::PlainText401);
  CHECK(unauthorized_response("text/html") == Unauthorized::RedirectToLogin);
  CHECK(unauthorized_response("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") ==
        Unauthorized::RedirectToLogin);
  CHECK(unauthorized_response("application/xml, TEXT/HTML;q=0.1") == Unauthorized::RedirectToLogin);
}

TEST_CASE("https comes from TLS or X-Forwarded-Proto", "[http]") {
  CHECK_FALSE(request_is_secure(false, nullptr));
  CHECK(request_is_secure(true, nullptr));
  CHECK(request_is_secure(false, "https"));
  CHECK(request_is_secure(false, "HTTPS"));
  CHECK(request_is_secure(false, "https, http"));
  CHECK_FALSE(request_is_secure(false, "http"));
  CHECK_FALSE(request_is_secure(false, "http, https"));
  CHECK_FALSE(request_is_secure(false, "httpsx"));
}

TEST_CASE("the session cookie has the reference server's exact attributes", "[http][cookie]") {
  CHECK(session_cookie("tok", 86400s, false) ==
        "auth_token=tok; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax");
  CHECK(session_cookie("tok", 86400s, true) ==
        "auth_token=tok; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax; Secure");
  CHECK(cleared_session_cookie(false) == "auth_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  CHECK(cleared_session_cookie(true) ==
        "auth_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure");
}

TEST_CASE("login bodies parse like Go's json.Unmarshal into a struct", "[http][login]") {
  auto ok = parse_login_body(R"({"username":"admin","password":"pw"})");
  REQUIRE(ok);
  CHECK(ok->username == "admin");
  CHECK(ok->password == "pw");

  auto extra = parse_login_body(R"({"password":"p\"w","username":"a","remember":true})");
  REQUIRE(extra);
  CHECK(extra->password == "p\"w");

  auto missing = parse_login_body("{}");
  REQUIRE(missing);  // valid JSON, then 401 for the empty credentials
  CHECK(missing->username.empty());
  auto nulls = parse_login_body(R"({"username":null,"password":null})");
  REQUIRE(nulls);

  CHECK_FALSE(parse_login_body(""));
  CHECK_FALSE(parse_login_body("not json"));
  CHECK_FALSE(parse_login_body("[]"));
  CHECK_FALSE(parse_login_body("\"admin\""));
  CHECK_FALSE(parse_login_body("null"));
  CHECK_FALSE(parse_login_body(R"({"username":1,"password":"pw"})"));
  CHECK_FALSE(parse_login_body(R"({"username":"a","password":["pw"]})"));
  CHECK_FALSE(parse_login_body(R"({"username":"a")"));
}

TEST_CASE("login answers", "[http][login]") {
  CHECK(login_success_body("abc=") == R"({"success":true,"token":"abc="})");
  CHECK(login_failure_body() == R"({"success":false,"message":"Invalid credentials"})");
}

TEST_CASE("room URLs echo a checked Host", "[http]") {
  CHECK(room_url(false, "127.0.0.1:8080", "id") == "http://127.0.0.1:8080/room/id");
  CHECK(room_url(true, "chat.example.com", "id") == "https://chat.example.com/room/id");
  CHECK(valid_host("127.0.0.1:8080"));
  CHECK(valid_host("[::1]:8080"));
  CHECK(valid_host("chat.example.com"));
  CHECK_FALSE(valid_host(""));
  CHECK_FALSE(valid_host("evil.com/x"));
  CHECK_FALSE(valid_host("a b"));
  CHECK_FALSE(valid_host("a\r\nSet-Cookie: x"));
  CHECK_FALSE(valid_host("user@host"));
}

TEST_CASE("WebSocket Origin must match Host when present", "[http][ws]") {
  CHECK(origin_allowed(nullptr, "127.0.0.1:8080"));
  CHECK(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  CHECK(origin_allowed("https://Chat.Example.com", "chat.example.com"));
  CHECK_FALSE(origin_allowed("http://evil.example", "127.0.0.1:8080"));
  CHECK_FALSE(origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080"));
  CHECK_FALSE(origin_allowed("null", "127.0.0.1:8080"));
  CHECK_FALSE(origin_allowed("http://127.0.0.1:8080", nullptr));
}
