#include "control/command.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <set>

namespace callagent::control {

namespace {

constexpr std::array<CommandInfo, 13> kCommands{{
    {"mute", R"({"audio": true, "video": true})", "mute audio|video|both (or --audio --video)",
     "send silence and/or black frames (the tracks stay up)"},
    {"unmute", R"({"audio": true, "video": true})", "unmute audio|video|both", "send the real source again"},
    {"status", "", "status",
     "state, room, partner, ICE path, presets sent now, muted flags, output paths"},
    {"stats", "", "stats", "the last stats interval, the fields --stats-log writes (under `stats`)"},
    {"hangup", R"({"rejoin": false})", "hangup [rejoin]",
     "leave the room (the partner sees leave; its recording is finalized); rejoin: come back at once "
     "(a new negotiation); out of the room, `hangup rejoin` joins again"},
    {"quit", "", "quit", "end the run as SIGTERM does (outputs finalized, report written)"},
    {"chat", R"({"text": "..."})", "chat TEXT...", "send a chat message to the room"},
    {"keyframe", "", "keyframe", "ask the partner for a keyframe (PLI)"},
    {"set", R"({"video": "480p", "fps": 30, "bitrate": 1200, "audio": "low"})",
     "set [video SIZE] [fps N] [bitrate KBPS] [audio PRESET]",
     "change what is sent, mid-call: size, frame rate, video bitrate (0: the size's), audio preset's bitrate; "
     "replies with the presets now"},
    {"source", R"({"video": "file:/srv/slides.mp4,loop", "audio": "test"})", "source [video SPEC] [audio SPEC]",
     "switch to another camera, microphone, file or test source mid-call (SPEC as --video-source / "
     "--audio-source); replies with the sources now"},
    {"snapshot", R"({"path": "FILE.png"})", "snapshot [FILE.png]",
     "write the last remote frame now (default: the --snapshot path); replies with `path`"},
    {"subscribe", R"({"events": ["chat", "stats"]})", "subscribe [EVENT...]",
     "push these events to this client (no events: all); socket only"},
    {"unsubscribe", R"({"events": ["stats"]})", "unsubscribe [EVENT...]",
     "stop pushing these events (no events: all); socket only"},
}};

constexpr std::array<EventInfo, 10> kEvents{{
    {"partner-joined", "partner", "a partner entered the room"},
    {"partner-left", "partner", "the partner left the room"},
    {"connected", "peer, partner, connections", "the media connection to the partner is up (ICE and DTLS)"},
    {"disconnected", "peer", "the media connection to the partner ended (left, failed, hangup)"},
    {"reconnecting", "reason", "the signaling connection dropped; the agent is reconnecting"},
    {"chat", "from, text", "a chat message from the room"},
    {"muted", "audio, video", "what is muted now (after a change)"},
    {"stats", "stats", "one stats interval (every --stats-interval), as `stats` replies"},
    {"error", "message, code (, output, path)", "something failed (an output, the engine, the server)"},
    {"source", "kind, state, source, reason",
     "a camera or microphone failed (state `lost`: the slate / silence are sent while it is tried again) or works "
     "again (`back`)"},
}};

Error bad(std::string_view cmd, std::string_view why) {
  return Error{ExitCode::Usage, std::string(cmd) + ": " + std::string(why)};
}

// Checks that `o` has only members from `allowed`.
std::optional<std::string> unknown_member(JsonObject* o, std::initializer_list<std::string_view> allowed) {
  GList* members = json_object_get_members(o);
  std::optional<std::string> found;
  for (GList* m = members; m && !found; m = m->next) {
    std::string_view name = static_cast<const char*>(m->data);
    bool ok = false;
    for (auto a : allowed) ok = ok || a == name;
    if (!ok) found = std::string(name);
  }
  g_list_free(members);
  return found;
}

Result<bool> get_bool(JsonObject* o, const char* name, std::string_view cmd) {
  JsonNode* n = json_object_get_member(o, name);
  if (!n) return false;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return bad(cmd, std::string("\"") + name + "\" must be true or false");
  return json_node_get_boolean(n) != FALSE;
}

Result<std::optional<std::string>> get_string(JsonObject* o, const char* name, std::string_view cmd) {
  JsonNode* n = json_object_get_member(o, name);
  if (!n) return std::optional<std::string>{};
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return bad(cmd, std::string("\"") + name + "\" must be a string");
  return std::optional<std::string>(json_node_get_string(n));
}

Result<std::optional<int>> get_int(JsonObject* o, const char* name, std::string_view cmd) {
  JsonNode* n = json_object_get_member(o, name);
  if (!n) return std::optional<int>{};
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    return bad(cmd, std::string("\"") + name + "\" must be a whole number");
  const gint64 v = json_node_get_int(n);
  if (v < 0 || v > 1'000'000) return bad(cmd, std::string("\"") + name + "\" is out of range");
  return std::optional<int>(static_cast<int>(v));
}

// "KEY VALUE" word pairs (a key may be spelt --KEY) into r's args: string
// members, or whole numbers for `numbers` ("set video 480p fps 15",
// "source video v4l2:/dev/video1").
Result<Request> key_values(Request& r, const std::vector<std::string>& rest,
                           std::initializer_list<std::string_view> strings,
                           std::initializer_list<std::string_view> numbers) {
  const std::string& c = r.command;
  auto in = [](std::initializer_list<std::string_view> l, const std::string& k) {
    return std::find(l.begin(), l.end(), k) != l.end();
  };
  for (size_t i = 0; i < rest.size(); i += 2) {
    std::string key = rest[i].rfind("--", 0) == 0 ? rest[i].substr(2) : rest[i];
    if (!in(strings, key) && !in(numbers, key)) return Error{ExitCode::Usage, c + ": unexpected \"" + rest[i] + "\""};
    if (i + 1 >= rest.size()) return Error{ExitCode::Usage, c + ": \"" + key + "\" needs a value"};
    const std::string& val = rest[i + 1];
    if (in(strings, key)) {
      json_object_set_string_member(r.args.get(), key.c_str(), val.c_str());
      continue;
    }
    char* end = nullptr;
    const long n = std::strtol(val.c_str(), &end, 10);
    if (val.empty() || *end != '\0' || n < 0)
      return Error{ExitCode::Usage, c + ": \"" + key + "\" must be a whole number, not \"" + val + "\""};
    json_object_set_int_member(r.args.get(), key.c_str(), n);
  }
  return std::move(r);
}

}  // namespace

std::span<const CommandInfo> command_table() { return kCommands; }
std::span<const EventInfo> event_table() { return kEvents; }

bool is_event_name(std::string_view name) {
  for (const auto& e : kEvents)
    if (e.name == name) return true;
  return false;
}

Result<Command> to_command(const Request& r) {
  if (!r.error.empty()) return Error{ExitCode::Usage, r.error};
  const std::string& c = r.command;
  JsonObject* a = r.args.get();
  Command cmd;
  auto only = [&](std::initializer_list<std::string_view> allowed) -> std::optional<Error> {
    if (auto u = unknown_member(a, allowed)) return bad(c, "unknown argument \"" + *u + "\"");
    return std::nullopt;
  };
  if (c == "mute" || c == "unmute") {
    cmd.kind = c == "mute" ? Command::Kind::Mute : Command::Kind::Unmute;
    if (auto e = only({"audio", "video"})) return *e;
    auto au = get_bool(a, "audio", c);
    if (!au) return au.error();
    auto vi = get_bool(a, "video", c);
    if (!vi) return vi.error();
    cmd.audio = *au;
    cmd.video = *vi;
    if (!cmd.audio && !cmd.video) return bad(c, "say which: {\"audio\": true} and/or {\"video\": true}");
    return cmd;
  }
  if (c == "hangup") {
    cmd.kind = Command::Kind::Hangup;
    if (auto e = only({"rejoin"})) return *e;
    auto rj = get_bool(a, "rejoin", c);
    if (!rj) return rj.error();
    cmd.rejoin = *rj;
    return cmd;
  }
  if (c == "chat") {
    cmd.kind = Command::Kind::Chat;
    if (auto e = only({"text"})) return *e;
    auto t = get_string(a, "text", c);
    if (!t) return t.error();
    if (!*t || (*t)->empty()) return bad(c, "\"text\" (a non-empty string) is missing");
    cmd.text = **t;
    return cmd;
  }
  if (c == "snapshot") {
    cmd.kind = Command::Kind::Snapshot;
    if (auto e = only({"path"})) return *e;
    auto p = get_string(a, "path", c);
    if (!p) return p.error();
    if (*p) cmd.path = **p;
    return cmd;
  }
  if (c == "subscribe" || c == "unsubscribe") {
    cmd.kind = c == "subscribe" ? Command::Kind::Subscribe : Command::Kind::Unsubscribe;
    if (auto e = only({"events"})) return *e;
    if (JsonNode* n = json_object_get_member(a, "events")) {
      if (!JSON_NODE_HOLDS_ARRAY(n)) return bad(c, "\"events\" must be an array of event names");
      JsonArray* arr = json_node_get_array(n);
      for (guint i = 0; i < json_array_get_length(arr); ++i) {
        JsonNode* e = json_array_get_element(arr, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
          return bad(c, "\"events\" must be an array of event names");
        std::string name = json_node_get_string(e);
        if (name == "all") {
          cmd.events.clear();
          break;
        }
        if (!is_event_name(name)) return bad(c, "unknown event \"" + name + "\"");
        cmd.events.push_back(name);
      }
    }
    return cmd;
  }
  if (c == "set") {
    cmd.kind = Command::Kind::Set;
    if (auto e = only({"video", "fps", "bitrate", "audio"})) return *e;
    auto v = get_string(a, "video", c);
    if (!v) return v.error();
    auto f = get_int(a, "fps", c);
    if (!f) return f.error();
    auto b = get_int(a, "bitrate", c);
    if (!b) return b.error();
    auto au = get_string(a, "audio", c);
    if (!au) return au.error();
    cmd.video_size = *v;
    cmd.fps = *f;
    cmd.bitrate_kbps = *b;
    cmd.audio_preset = *au;
    if (!cmd.video_size && !cmd.fps && !cmd.bitrate_kbps && !cmd.audio_preset)
      return bad(c, "say what to change: video SIZE, fps N, bitrate KBPS and/or audio PRESET");
    return cmd;
  }
  if (c == "source") {
    cmd.kind = Command::Kind::Source;
    if (auto e = only({"video", "audio"})) return *e;
    auto v = get_string(a, "video", c);
    if (!v) return v.error();
    auto au = get_string(a, "audio", c);
    if (!au) return au.error();
    cmd.video_source = *v;
    cmd.audio_source = *au;
    if (!cmd.video_source && !cmd.audio_source) return bad(c, "say which: video SPEC and/or audio SPEC");
    return cmd;
  }
  static const std::pair<std::string_view, Command::Kind> kPlain[] = {
      {"status", Command::Kind::Status}, {"stats", Command::Kind::Stats}, {"quit", Command::Kind::Quit},
      {"keyframe", Command::Kind::Keyframe}};
  for (const auto& [name, kind] : kPlain) {
    if (c != name) continue;
    cmd.kind = kind;
    if (auto e = only({})) return *e;
    return cmd;
  }
  return Error{ExitCode::Usage, c.empty() ? std::string("no command") : "unknown command \"" + c + "\""};
}

Result<Request> request_from_words(const std::vector<std::string>& words) {
  if (words.empty()) return Error{ExitCode::Usage, "no command"};
  const std::string& c = words.front();
  Request r = make_request(c);
  JsonObject* a = r.args.get();
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  auto unexpected = [&](const std::string& w) {
    return Error{ExitCode::Usage, c + ": unexpected \"" + w + "\""};
  };
  if (c == "mute" || c == "unmute") {
    for (const auto& w : rest) {
      if (w == "audio" || w == "--audio") {
        json_object_set_boolean_member(a, "audio", TRUE);
      } else if (w == "video" || w == "--video") {
        json_object_set_boolean_member(a, "video", TRUE);
      } else if (w == "both" || w == "--both") {
        json_object_set_boolean_member(a, "audio", TRUE);
        json_object_set_boolean_member(a, "video", TRUE);
      } else {
        return unexpected(w);
      }
    }
    return r;
  }
  if (c == "hangup") {
    for (const auto& w : rest) {
      if (w != "rejoin" && w != "--rejoin") return unexpected(w);
      json_object_set_boolean_member(a, "rejoin", TRUE);
    }
    return r;
  }
  if (c == "chat") {
    std::string text;
    for (const auto& w : rest) text += (text.empty() ? "" : " ") + w;
    if (!text.empty()) json_object_set_string_member(a, "text", text.c_str());
    return r;
  }
  if (c == "snapshot") {
    if (rest.size() > 1) return unexpected(rest[1]);
    if (!rest.empty()) json_object_set_string_member(a, "path", rest[0].c_str());
    return r;
  }
  if (c == "source") return key_values(r, rest, {"video", "audio"}, {});
  if (c == "set") return key_values(r, rest, {"video", "audio"}, {"fps", "bitrate"});
  if (c == "subscribe" || c == "unsubscribe") {
    if (!rest.empty()) {
      JsonArray* arr = json_array_new();
      for (const auto& w : rest) json_array_add_string_element(arr, w.c_str());
      json_object_set_array_member(a, "events", arr);
    }
    return r;
  }
  for (const auto& info : kCommands) {
    if (info.name != c) continue;
    if (!rest.empty()) return unexpected(rest[0]);
    return r;
  }
  return Error{ExitCode::Usage, "unknown command \"" + c + "\""};
}

}  // namespace callagent::control
