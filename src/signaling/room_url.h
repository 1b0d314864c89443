#pragma once
// Where a room lives: the server's base URL and the room id, parsed from what
// a user types on the command line.
//
// Accepted forms of ROOM:
//   - the room's page URL as /create prints it and browsers show it:
//     http(s)://host[:port][/prefix]/room/<id>[/][?query][#fragment]
//     (the server is everything before "/room/", so a server mounted under a
//     path prefix behind a reverse proxy works too; query and fragment are
//     ignored);
//   - a bare room id, together with --server URL.
// A ws:// or wss:// URL, a /ws?room= URL, credentials inside the URL, or a
// bare id without a server are Usage errors whose message says what to type
// instead.
//
// Pure string handling (GUri for the parsing): no I/O.

#include "common/result.h"

#include <string>
#include <string_view>

namespace callagent::signaling {

struct RoomTarget {
  std::string base_url;  // "http://host:port" or "https://host/prefix", no trailing slash
  std::string room_id;   // as it appears in the URL, percent-decoded
};

// Parses ROOM (a room URL or a bare id). `server` is --server (may be empty);
// it is used for a bare id only. A room URL's own server wins over --server.
Result<RoomTarget> parse_room_target(std::string_view room, std::string_view server);

// Checks and normalizes a server base URL (--server): http or https, a host,
// optional port and path prefix, no query, fragment or credentials. Returns
// it without a trailing slash.
Result<std::string> normalize_server_url(std::string_view server);

// A room id is a UUID on the reference server; accept any non-empty id made
// of URL-safe characters (letters, digits, '-', '_', '.', '~').
bool is_valid_room_id(std::string_view id);

// "<base>/<path>" for an HTTP endpoint, e.g. endpoint_url(base, "login").
std::string endpoint_url(std::string_view base_url, std::string_view path);

// The WebSocket endpoint for a room, as an http(s) URL (libsoup upgrades it):
// "<base>/ws?room=<id>".
std::string ws_url(std::string_view base_url, std::string_view room_id);

// The room's page URL "<base>/room/<id>", as the server would print it.
std::string room_page_url(std::string_view base_url, std::string_view room_id);

}  // namespace callagent::signaling
