#pragma once
// The control protocol's lines (docs/control.md), in the style of mpv's
// JSON IPC: one JSON object per line each way.
//
//   request  {"command": "mute", "args": {"audio": true}, "id": 7}
//   reply    {"id": 7, "ok": true, ...}   or   {"id": 7, "ok": false, "error": "..."}
//   event    {"event": "chat", "t": 12.3, "from": "...", "text": "..."}
//
// Pure: no I/O, no GLib main loop; json-glib only. The id is any JSON value
// and comes back as it was sent (absent: null).

#include "common/gjson.h"

#include <string>
#include <string_view>

namespace callagent::control {

// A longer line is refused and its client dropped (a peer that sends a
// line without end is not buffered for ever).
constexpr size_t kMaxLineBytes = 64 * 1024;

struct Request {
  JsonNodePtr id;              // null when the request had none
  std::string command;
  GUnique<JsonObject> args;    // never null: {} when absent
  std::string error;           // not empty: the line is no valid request (reply with this)
};

// Parses one line (without its '\n').
Request parse_request(std::string_view line);

// A new, empty request for `command` (args {}), as the words of ctl and
// --script make it.
Request make_request(std::string command);

// The request as one JSON line (no '\n'), as ctl sends it.
std::string request_line(const Request& r);

// {"id":..., "ok":true, ...fields}: `fields` (may be null) are merged in.
std::string ok_line(const JsonNode* id, JsonObject* fields);
// {"id":..., "ok":false, "error": message}
std::string error_line(const JsonNode* id, std::string_view message);
// {"event": name, "t": t, ...fields}
std::string event_line(std::string_view name, double t, JsonObject* fields);

// Serializes a node compactly (no newline).
std::string to_json(JsonNode* node);
// An object node wrapping `o` (a new reference).
JsonNodePtr object_node(JsonObject* o);

}  // namespace callagent::control
