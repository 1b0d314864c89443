#include "signaling/protocol.h"

#include "common/gjson.h"

#include <json-glib/json-glib.h>

#include <array>
#include <memory>

namespace callagent::signaling {

namespace {

using NodePtr = JsonNodePtr;

// Parses text into a node; nullptr on invalid JSON.
NodePtr parse(std::string_view text, std::string* error) {
  auto parser = GRef<JsonParser>::adopt(json_parser_new_immutable());
  g_autoptr(GError) err = nullptr;
  if (!json_parser_load_from_data(parser.get(), text.data(), static_cast<gssize>(text.size()),
                                  &err)) {
    if (error) *error = std::string("invalid JSON: ") + (err ? err->message : "unknown error");
    return nullptr;
  }
  JsonNode* root = json_parser_get_root(parser.get());
  if (!root) {
    if (error) *error = "empty frame";
    return nullptr;
  }
  return NodePtr(json_node_ref(root));
}

std::string generate(JsonNode* node) {
  auto gen = GRef<JsonGenerator>::adopt(json_generator_new());
  json_generator_set_root(gen.get(), node);
  gsize len = 0;
  g_autofree gchar* s = json_generator_to_data(gen.get(), &len);
  std::string out(s, len);
  return out;
}

std::string quote(std::string_view s) {
  NodePtr n(json_node_new(JSON_NODE_VALUE));
  json_node_set_string(n.get(), std::string(s).c_str());
  return generate(n.get());
}

// Member `name` of `obj` as a string; nullopt when absent, null or not a string.
std::optional<std::string> string_member(JsonObject* obj, const char* name) {
  JsonNode* n = json_object_get_member(obj, name);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
    return std::nullopt;
  return std::string(json_node_get_string(n));
}

bool member_is_null_or_absent(JsonObject* obj, const char* name) {
  JsonNode* n = json_object_get_member(obj, name);
  return !n || JSON_NODE_HOLDS_NULL(n);
}

// `data` of an offer/answer/candidate: a JSON string holding an object, or
// the object itself. Returns the object node or an error.
Decoded<NodePtr> embedded_object(JsonNode* data, const char* what) {
  if (!data || JSON_NODE_HOLDS_NULL(data)) return DecodeError{std::string(what) + ": data is missing"};
  if (JSON_NODE_HOLDS_OBJECT(data)) return NodePtr(json_node_ref(data));
  if (JSON_NODE_TYPE(data) == JSON_NODE_VALUE && json_node_get_value_type(data) == G_TYPE_STRING) {
    std::string err;
    const char* s = json_node_get_string(data);
    NodePtr inner = parse(s ? s : "", &err);
    if (!inner) return DecodeError{std::string(what) + ": data string is not JSON (" + err + ")"};
    if (!JSON_NODE_HOLDS_OBJECT(inner.get()))
      return DecodeError{std::string(what) + ": data string does not hold a JSON object"};
    return inner;
  }
  return DecodeError{std::string(what) + ": data is neither a JSON object nor a string"};
}

Decoded<SessionDescription> description_from_object(JsonObject* o, const char* frame_type) {
  SessionDescription d;
  auto sdp = string_member(o, "sdp");
  if (!sdp || sdp->empty()) return DecodeError{std::string(frame_type) + ": missing sdp"};
  d.sdp = std::move(*sdp);
  auto type = string_member(o, "type");
  if (!member_is_null_or_absent(o, "type") && !type)
    return DecodeError{std::string(frame_type) + ": description type is not a string"};
  d.type = type ? *type : std::string(frame_type);
  if (d.type != "offer" && d.type != "answer" && d.type != "pranswer" && d.type != "rollback")
    return DecodeError{std::string(frame_type) + ": unknown description type '" + d.type + "'"};
  return d;
}

Decoded<IceCandidate> candidate_from_object(JsonObject* o) {
  IceCandidate c;
  auto cand = string_member(o, "candidate");
  if (!cand) return DecodeError{"ice-candidate: missing candidate string"};
  c.candidate = std::move(*cand);
  if (!member_is_null_or_absent(o, "sdpMid")) {
    auto mid = string_member(o, "sdpMid");
    if (!mid) return DecodeError{"ice-candidate: sdpMid is not a string"};
    c.sdp_mid = std::move(*mid);
  }
  if (!member_is_null_or_absent(o, "sdpMLineIndex")) {
    JsonNode* n = json_object_get_member(o, "sdpMLineIndex");
    if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_INT64)
      return DecodeError{"ice-candidate: sdpMLineIndex is not an integer"};
    gint64 v = json_node_get_int(n);
    if (v < 0 || v > 1024) return DecodeError{"ice-candidate: sdpMLineIndex out of range"};
    c.sdp_mline_index = static_cast<int>(v);
  }
  if (!member_is_null_or_absent(o, "usernameFragment")) {
    auto uf = string_member(o, "usernameFragment");
    if (!uf) return DecodeError{"ice-candidate: usernameFragment is not a string"};
    c.username_fragment = std::move(*uf);
  }
  if (!c.sdp_mid && !c.sdp_mline_index && !c.candidate.empty())
    return DecodeError{"ice-candidate: neither sdpMid nor sdpMLineIndex given"};
  return c;
}

constexpr std::array<std::string_view, 5> kRelayedTypes = {"join", "offer", "answer",
                                                           "ice-candidate", "chat"};

bool is_relayed_type(std::string_view t) {
  for (auto k : kRelayedTypes)
    if (k == t) return true;
  return false;
}

// {"type":T,"data":<data_json>,"room":R[,"user":U]} with data omitted when empty.
std::string frame(std::string_view type, std::string_view data_json, std::string_view room,
                  std::optional<std::string_view> user) {
  std::string out = "{\"type\":" + quote(type);
  if (!data_json.empty()) {
    out += ",\"data\":";
    out += data_json;
  }
  out += ",\"room\":" + quote(room);
  if (user) out += ",\"user\":" + quote(*user);
  out += "}";
  return out;
}

}  // namespace

// ---- client side --------------------------------------------------------

Decoded<ServerMessage> decode_server_frame(std::string_view text) {
  if (text.size() > kMaxFrameBytes)
    return DecodeError{"frame of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                       std::to_string(kMaxFrameBytes)};
  std::string err;
  NodePtr root = parse(text, &err);
  if (!root) return DecodeError{err};
  if (!JSON_NODE_HOLDS_OBJECT(root.get())) return DecodeError{"frame is not a JSON object"};
  JsonObject* o = json_node_get_object(root.get());

  if (member_is_null_or_absent(o, "type") && json_object_has_member(o, "error")) {
    auto msg = string_member(o, "error");
    if (!msg) return DecodeError{"error frame without an error string"};
    ServerErrorMsg e;
    e.message = *msg;
    if (*msg == kErrRoomMissing)
      e.kind = ServerErrorKind::RoomMissing;
    else if (*msg == kErrRoomNotFound)
      e.kind = ServerErrorKind::RoomNotFound;
    else if (*msg == kErrRoomFull)
      e.kind = ServerErrorKind::RoomFull;
    return ServerMessage{e};
  }

  auto type = string_member(o, "type");
  if (!type) return DecodeError{"frame has no string 'type'"};
  if (!member_is_null_or_absent(o, "room") && !string_member(o, "room"))
    return DecodeError{"'room' is not a string"};
  if (!member_is_null_or_absent(o, "user") && !string_member(o, "user"))
    return DecodeError{"'user' is not a string"};
  std::string room = string_member(o, "room").value_or("");
  std::string user = string_member(o, "user").value_or("");
  JsonNode* data = json_object_get_member(o, "data");

  if (*type == "join") {
    // Server-made: data {"message":"joined the call"}; relayed: data as the
    // page sent it (absent -> null).
    bool server_made = data && JSON_NODE_HOLDS_OBJECT(data) &&
                       json_object_has_member(json_node_get_object(data), "message");
    return ServerMessage{JoinMsg{room, user, server_made}};
  }
  if (*type == "leave") return ServerMessage{LeaveMsg{room, user}};
  if (*type == "offer" || *type == "answer") {
    auto obj = embedded_object(data, type->c_str());
    if (auto* e = std::get_if<DecodeError>(&obj)) return *e;
    auto desc = description_from_object(json_node_get_object(std::get<NodePtr>(obj).get()),
                                        type->c_str());
    if (auto* e = std::get_if<DecodeError>(&desc)) return *e;
    auto& d = std::get<SessionDescription>(desc);
    if (d.type != *type)
      return DecodeError{*type + " frame holds a description of type '" + d.type + "'"};
    if (*type == "offer") return ServerMessage{OfferMsg{room, user, std::move(d)}};
    return ServerMessage{AnswerMsg{room, user, std::move(d)}};
  }
  if (*type == "ice-candidate") {
    auto obj = embedded_object(data, "ice-candidate");
    if (auto* e = std::get_if<DecodeError>(&obj)) return *e;
    auto cand = candidate_from_object(json_node_get_object(std::get<NodePtr>(obj).get()));
    if (auto* e = std::get_if<DecodeError>(&cand)) return *e;
    return ServerMessage{CandidateMsg{room, user, std::move(std::get<IceCandidate>(cand))}};
  }
  if (*type == "chat") {
    if (!data || JSON_NODE_TYPE(data) != JSON_NODE_VALUE ||
        json_node_get_value_type(data) != G_TYPE_STRING)
      return DecodeError{"chat: data is not a string"};
    return ServerMessage{ChatMsg{room, user, json_node_get_string(data)}};
  }
  return ServerMessage{IgnoredMsg{*type}};
}

std::string description_to_json(const SessionDescription& d) {
  return "{\"type\":" + quote(d.type) + ",\"sdp\":" + quote(d.sdp) + "}";
}

std::string candidate_to_json(const IceCandidate& c) {
  std::string out = "{\"candidate\":" + quote(c.candidate);
  out += ",\"sdpMid\":" + (c.sdp_mid ? quote(*c.sdp_mid) : std::string("null"));
  out += ",\"sdpMLineIndex\":" +
         (c.sdp_mline_index ? std::to_string(*c.sdp_mline_index) : std::string("null"));
  out += ",\"usernameFragment\":" +
         (c.username_fragment ? quote(*c.username_fragment) : std::string("null"));
  out += "}";
  return out;
}

Decoded<SessionDescription> parse_description_json(std::string_view text) {
  std::string err;
  NodePtr root = parse(text, &err);
  if (!root) return DecodeError{err};
  auto obj = embedded_object(root.get(), "description");
  if (auto* e = std::get_if<DecodeError>(&obj)) return *e;
  return description_from_object(json_node_get_object(std::get<NodePtr>(obj).get()),
                                 "description");
}

Decoded<IceCandidate> parse_candidate_json(std::string_view text) {
  std::string err;
  NodePtr root = parse(text, &err);
  if (!root) return DecodeError{err};
  auto obj = embedded_object(root.get(), "ice-candidate");
  if (auto* e = std::get_if<DecodeError>(&obj)) return *e;
  return candidate_from_object(json_node_get_object(std::get<NodePtr>(obj).get()));
}

std::string encode_join(std::string_view room) { return frame("join", "", room, std::nullopt); }

std::string encode_description(const SessionDescription& d, std::string_view room) {
  return frame(d.type, quote(description_to_json(d)), room, std::nullopt);
}

std::string encode_candidate(const IceCandidate& c, std::string_view room) {
  return frame("ice-candidate", quote(candidate_to_json(c)), room, std::nullopt);
}

std::string encode_chat(std::string_view text, std::string_view room) {
  return frame("chat", quote(text), room, std::nullopt);
}

// ---- server side --------------------------------------------------------

std::optional<ClientFrame> decode_client_frame(std::string_view text) {
  if (text.size() > kMaxFrameBytes) return std::nullopt;
  NodePtr root = parse(text, nullptr);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root.get())) return std::nullopt;
  JsonObject* o = json_node_get_object(root.get());
  auto type = string_member(o, "type");
  if (!type || !is_relayed_type(*type)) return std::nullopt;
  JsonNode* data = json_object_get_member(o, "data");
  return ClientFrame{*type, data ? generate(data) : std::string("null")};
}

std::string relay_frame(const ClientFrame& f, std::string_view room,
                        std::string_view receiver_user) {
  return frame(f.type, f.data_json.empty() ? std::string_view("null") : f.data_json, room,
               receiver_user);
}

std::string make_join_frame(std::string_view room, std::string_view joiner) {
  return frame("join", "{\"message\":\"joined the call\"}", room, joiner);
}

std::string make_leave_frame(std::string_view room, std::string_view leaver) {
  return frame("leave", "{\"message\":\"left the call\"}", room, leaver);
}

std::string make_error_frame(std::string_view message) {
  return "{\"error\":" + quote(message) + "}";
}

}  // namespace callagent::signaling
