#include "signaling/room_url.h"

#include "common/gref.h"

#include <glib.h>

#include <algorithm>
#include <cctype>

namespace callagent::signaling {

namespace {

constexpr std::string_view kRoomUrlForm = "http(s)://HOST[:PORT]/room/ID";

Error usage(std::string msg) { return Error{ExitCode::Usage, std::move(msg)}; }

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return r;
}

bool has_scheme(std::string_view s) { return s.find("://") != std::string_view::npos; }

struct ParsedUrl {
  std::string scheme;  // lower case
  std::string host;    // without IPv6 brackets
  int port = -1;
  std::string path;    // still percent-encoded
  bool has_query = false;
  bool has_fragment = false;
};

// Parses an absolute http(s) URL and rejects what can never name a server.
// `what` names the argument in messages ("ROOM", "--server").
Result<ParsedUrl> parse_http_url(std::string_view text, std::string_view what) {
  std::string s(text);
  GError* raw = nullptr;
  // ENCODED_PATH keeps "%2F" in a room id from turning into a path separator.
  GUnique<GUri> uri(g_uri_parse(s.c_str(), GUriFlags(G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY |
                                                      G_URI_FLAGS_ENCODED_FRAGMENT),
                                &raw));
  GErrorPtr err(raw);
  if (!uri) {
    return usage(std::string(what) + " '" + s + "' is not a valid URL (" + (err ? err->message : "?") +
                 ")");
  }
  ParsedUrl p;
  p.scheme = lower(g_uri_get_scheme(uri.get()) ? g_uri_get_scheme(uri.get()) : "");
  if (p.scheme == "ws" || p.scheme == "wss") {
    return usage(std::string(what) + " '" + s + "' is a WebSocket address; give the " +
                 (what == "ROOM" ? "room's page URL (" + std::string(kRoomUrlForm) + ")"
                                 : std::string("server's base URL (http://HOST[:PORT] or https://HOST)")) +
                 " instead: callagent derives the WebSocket address itself");
  }
  if (p.scheme != "http" && p.scheme != "https") {
    return usage(std::string(what) + " '" + s + "': unsupported scheme '" + p.scheme +
                 "', use http:// or https://");
  }
  if (g_uri_get_userinfo(uri.get())) {
    return usage(std::string(what) + " '" + s +
                 "' contains credentials: they are not taken from URLs; use --user and "
                 "--password-file (or CALLAGENT_PASSWORD)");
  }
  const char* host = g_uri_get_host(uri.get());
  if (!host || !*host) return usage(std::string(what) + " '" + s + "' has no host name");
  p.host = host;
  p.port = g_uri_get_port(uri.get());
  p.path = g_uri_get_path(uri.get()) ? g_uri_get_path(uri.get()) : "";
  p.has_query = g_uri_get_query(uri.get()) != nullptr;
  p.has_fragment = g_uri_get_fragment(uri.get()) != nullptr;
  return p;
}

// scheme://host[:port] + prefix, IPv6 hosts in brackets.
std::string make_base(const ParsedUrl& p, std::string_view prefix) {
  std::string base = p.scheme + "://";
  if (p.host.find(':') != std::string::npos)
    base += "[" + p.host + "]";
  else
    base += p.host;
  if (p.port > 0) base += ":" + std::to_string(p.port);
  std::string pre(prefix);
  while (!pre.empty() && pre.back() == '/') pre.pop_back();
  return base + pre;
}

}  // namespace

bool is_valid_room_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
  });
}

Result<std::string> normalize_server_url(std::string_view server) {
  if (server.empty()) {
    return usage("no server given: pass --server URL (or set CALLAGENT_SERVER), e.g. --server "
                 "https://chat.example.com");
  }
  if (!has_scheme(server)) {
    return usage("--server '" + std::string(server) + "' has no scheme: write http://" +
                 std::string(server) + " (or https://...)");
  }
  auto p = parse_http_url(server, "--server");
  if (!p) return p.error();
  if (p->has_query || p->has_fragment) {
    return usage("--server '" + std::string(server) +
                 "' has a query or fragment: give only the base URL, e.g. http://HOST[:PORT]");
  }
  if (p->path.find("/room/") != std::string::npos) {
    return usage("--server '" + std::string(server) +
                 "' looks like a room URL: pass it as ROOM instead, or give only the base URL");
  }
  return make_base(*p, p->path);
}

Result<RoomTarget> parse_room_target(std::string_view room, std::string_view server) {
  if (room.empty()) return usage("ROOM is empty: give a room URL (" + std::string(kRoomUrlForm) + ") or a room id");

  if (!has_scheme(room)) {
    if (room.find('/') != std::string_view::npos) {
      return usage("ROOM '" + std::string(room) +
                   "' is neither a room id nor a URL: room URLs start with http:// or https:// (" +
                   std::string(kRoomUrlForm) + ")");
    }
    if (!is_valid_room_id(room)) {
      return usage("ROOM '" + std::string(room) +
                   "' is not a valid room id (letters, digits, '-', '_', '.', '~' only)");
    }
    if (server.empty()) {
      return usage("ROOM '" + std::string(room) +
                   "' is a bare room id: also give --server URL (or set CALLAGENT_SERVER), or pass "
                   "the room's full URL (" +
                   std::string(kRoomUrlForm) + ")");
    }
    auto base = normalize_server_url(server);
    if (!base) return base.error();
    return RoomTarget{*base, std::string(room)};
  }

  auto p = parse_http_url(room, "ROOM");
  if (!p) return p.error();

  // The id is the segment after the last "/room/"; at most a trailing slash may follow.
  const std::string& path = p->path;
  const auto at = path.rfind("/room/");
  if (at == std::string::npos) {
    std::string hint;
    if (path == "/ws" || path.ends_with("/ws"))
      hint = " (that is the WebSocket endpoint; give the room's page URL)";
    return usage("ROOM '" + std::string(room) + "' is not a room URL: expected " +
                 std::string(kRoomUrlForm) + hint);
  }
  std::string rest = path.substr(at + 6);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return usage("ROOM '" + std::string(room) + "' has no room id after /room/");
  if (rest.find('/') != std::string::npos) {
    return usage("ROOM '" + std::string(room) + "' has extra path segments after the room id: expected " +
                 std::string(kRoomUrlForm));
  }
  GCharPtr decoded(g_uri_unescape_string(rest.c_str(), nullptr));
  if (!decoded || !is_valid_room_id(decoded.get())) {
    return usage("ROOM '" + std::string(room) + "': '" + rest +
                 "' is not a valid room id (letters, digits, '-', '_', '.', '~' only)");
  }
  return RoomTarget{make_base(*p, path.substr(0, at)), std::string(decoded.get())};
}

std::string endpoint_url(std::string_view base_url, std::string_view path) {
  std::string u(base_url);
  while (!u.empty() && u.back() == '/') u.pop_back();
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return u + "/" + std::string(path);
}

std::string ws_url(std::string_view base_url, std::string_view room_id) {
  std::string id(room_id);
  GCharPtr escaped(g_uri_escape_string(id.c_str(), nullptr, FALSE));
  return endpoint_url(base_url, "ws") + "?room=" + escaped.get();
}

std::string room_page_url(std::string_view base_url, std::string_view room_id) {
  std::string id(room_id);
  GCharPtr escaped(g_uri_escape_string(id.c_str(), nullptr, FALSE));
  return endpoint_url(base_url, "room/") + escaped.get();
}

}  // namespace callagent::signaling
