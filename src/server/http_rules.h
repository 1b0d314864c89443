#pragma once
// The HTTP rules of the signaling protocol (docs/protocol.md) that need no
// socket, as pure functions so unit tests can pin every quirk: where a token
// may come from, when a request counts as https, what an unauthenticated request gets, the
// cookie's exact attributes, the login body and answers, the room URL.
// Server applies them to libsoup messages.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::server::http {

inline constexpr std::string_view kCookieName = "auth_token";

// Every token a request offers: the values of its `auth_token` cookies (in
// order), then the token of `Authorization: Bearer <token>`. Either header
// may be null. A request is authenticated when any of them is a live session.
std::vector<std::string> offered_tokens(const char* cookie_header, const char* authorization_header);

// What a request without valid auth gets: 303 to /login when its Accept
// contains text/html (a browser navigating), else 401 "Unauthorized".
enum class Unauthorized { PlainText401, RedirectToLogin };
Unauthorized unauthorized_response(const char* accept_header);

// https when the request came over TLS or a proxy says so with
// `X-Forwarded-Proto: https` (its first value, any case).
bool request_is_secure(bool over_tls, const char* x_forwarded_proto);

// `auth_token=<token>; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax[; Secure]`
std::string session_cookie(std::string_view token, std::chrono::seconds max_age, bool secure);
// The same cookie with an empty value and Max-Age=0, which makes the browser drop it.
std::string cleared_session_cookie(bool secure);

struct LoginRequest {
  std::string username;
  std::string password;
};
// Parses `{"username":"…","password":"…"}` the way the reference server's
// Go json.Unmarshal into a struct does: must be one JSON object; missing or
// null fields are empty; a field of another type, or anything else, is
// invalid (nullopt -> 400 "Invalid JSON"). Unknown fields are ignored.
std::optional<LoginRequest> parse_login_body(std::string_view body);

std::string login_success_body(std::string_view token);  // {"success":true,"token":"…"}
std::string login_failure_body();  // {"success":false,"message":"Invalid credentials"}

// Whether a Host header value is safe to echo into a URL: a host name, IPv4
// or bracketed IPv6 literal, with an optional port.
bool valid_host(std::string_view host);
// `http://<host>/room/<id>` (https when `secure`).
std::string room_url(bool secure, std::string_view host, std::string_view room_id);

// Cross-site WebSocket hijacking guard (as gorilla/websocket's default): a
// browser always sends Origin; when present, its host[:port] must equal the
// Host header. Non-browser clients send none and pass.
bool origin_allowed(const char* origin, const char* host);

}  // namespace callagent::server::http
