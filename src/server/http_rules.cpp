#include "server/http_rules.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cctype>

namespace callagent::server::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A member of the login object: absent or null -> "", string -> it,
// anything else -> nullopt (Go: "cannot unmarshal number into ... string").
std::optional<std::string> string_field(JsonObject* o, const char* name) {
  JsonNode* n = json_object_get_member(o, name);
  if (!n || JSON_NODE_HOLDS_NULL(n)) return std::string();
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) return std::nullopt;
  return std::string(json_node_get_string(n));
}

}  // namespace

std::vector<std::string> offered_tokens(const char* cookie_header, const char* authorization_header) {
  std::vector<std::string> tokens;
  if (cookie_header) {
    // Pairs are separated by ';'. libsoup joins repeated Cookie headers with
    // ", ", and a token never holds either character, so split on both.
    std::string_view rest(cookie_header);
    while (!rest.empty()) {
      size_t end = rest.find_first_of(";,");
      std::string_view pair = trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != kCookieName) continue;
      std::string_view value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (!value.empty()) tokens.emplace_back(value);
    }
  }
  if (authorization_header) {
    std::string_view a = trim(authorization_header);
    constexpr std::string_view kBearer = "bearer";
    if (a.size() > kBearer.size() && iequals(a.substr(0, kBearer.size()), kBearer) &&
        (a[kBearer.size()] == ' ' || a[kBearer.size()] == '\t')) {
      std::string_view t = trim(a.substr(kBearer.size()));
      if (!t.empty()) tokens.emplace_back(t);
    }
  }
  return tokens;
}

Unauthorized unauthorized_response(const char* accept_header) {
  if (accept_header && lower(accept_header).find("text/html") != std::string::npos)
    return Unauthorized::RedirectToLogin;
  return Unauthorized::PlainText401;
}

bool request_is_secure(bool over_tls, const char* x_forwarded_proto) {
  if (over_tls) return true;
  if (!x_forwarded_proto) return false;
  std::string_view v(x_forwarded_proto);
  return iequals(trim(v.substr(0, v.find(','))), "https");
}

std::string session_cookie(std::string_view token, std::chrono::seconds max_age, bool secure) {
  std::string c = std::string(kCookieName) + "=" + std::string(token) +
                  "; Path=/; Max-Age=" + std::to_string(max_age.count()) + "; HttpOnly; SameSite=Lax";
  if (secure) c += "; Secure";
  return c;
}

std::string cleared_session_cookie(bool secure) {
  return session_cookie("", std::chrono::seconds(0), secure);
}

std::optional<LoginRequest> parse_login_body(std::string_view body) {
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, body.data(), static_cast<gssize>(body.size()), nullptr))
    return std::nullopt;
  JsonNode* root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return std::nullopt;
  JsonObject* o = json_node_get_object(root);
  auto user = string_field(o, "username");
  auto password = string_field(o, "password");
  if (!user || !password) return std::nullopt;
  return LoginRequest{std::move(*user), std::move(*password)};
}

std::string login_success_body(std::string_view token) {
  // The token is base64url: nothing in it needs JSON escaping.
  return "{\"success\":true,\"token\":\"" + std::string(token) + "\"}";
}

std::string login_failure_body() { return "{\"success\":false,\"message\":\"Invalid credentials\"}"; }

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']' || c == '_';
  });
}

std::string room_url(bool secure, std::string_view host, std::string_view room_id) {
  return std::string(secure ? "https://" : "http://") + std::string(host) + "/room/" +
         std::string(room_id);
}

bool origin_allowed(const char* origin, const char* host) {
  if (!origin) return true;
  if (!host) return false;
  std::string_view o(origin);
  size_t sep = o.find("://");
  if (sep == std::string_view::npos) return false;  // "null" and other opaque origins
  std::string_view authority = o.substr(sep + 3);
  authority = authority.substr(0, authority.find('/'));
  return iequals(authority, trim(host));
}

}  // namespace callagent::server::http
