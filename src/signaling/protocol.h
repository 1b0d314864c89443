#pragma once
// The messenger's signaling frames (docs/protocol.md) as typed values.
//
// A pure codec: no I/O, no GStreamer, no main loop. Text frames in, typed
// messages out, and back. Every quirk of the reference server and page is
// handled here and unit-tested:
//   - `data` may be a JSON string holding JSON, the object itself, or null;
//   - server-made join/leave frames carry {"message": ...} as data and the
//     joiner's/leaver's id as `user`; relayed frames carry the *receiver's*
//     own id as `user`;
//   - error frames have no `type`: {"error":"room full"};
//   - unknown types are ignored (Ignored), not errors.
// Client side: decode_server_frame() / encode_*(). Server side:
// decode_client_frame() / relay_frame() / make_*_frame().

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace callagent::signaling {

// Frames larger than this are rejected by both sides (an SDP offer with many
// candidates is ~10 KiB; 256 KiB leaves ample room).
constexpr std::size_t kMaxFrameBytes = 256 * 1024;

struct SessionDescription {
  std::string type;  // "offer" or "answer"
  std::string sdp;
};

struct IceCandidate {
  std::string candidate;  // "candidate:..." (may be empty: end of candidates)
  std::optional<std::string> sdp_mid;
  std::optional<int> sdp_mline_index;
  std::optional<std::string> username_fragment;
};

// Server-made ("joined the call") or relayed (a peer's own join, data null).
struct JoinMsg {
  std::string room;
  std::string user;  // server-made: joiner's id; relayed: the receiver's id
  bool server_made = false;
};
struct LeaveMsg {
  std::string room;
  std::string user;  // the leaver's id
};
struct OfferMsg {
  std::string room;
  std::string user;  // receiver's own id (relay quirk)
  SessionDescription description;
};
struct AnswerMsg {
  std::string room;
  std::string user;
  SessionDescription description;
};
struct CandidateMsg {
  std::string room;
  std::string user;
  IceCandidate candidate;
};
struct ChatMsg {
  std::string room;
  std::string user;
  std::string text;
};

enum class ServerErrorKind { RoomMissing, RoomNotFound, RoomFull, Other };
struct ServerErrorMsg {
  ServerErrorKind kind = ServerErrorKind::Other;
  std::string message;  // as the server sent it
};

// A well-formed frame that the client does not act on (unknown type).
struct IgnoredMsg {
  std::string type;
};

using ServerMessage = std::variant<JoinMsg, LeaveMsg, OfferMsg, AnswerMsg, CandidateMsg, ChatMsg,
                                   ServerErrorMsg, IgnoredMsg>;

struct DecodeError {
  std::string reason;
};

template <typename T>
using Decoded = std::variant<T, DecodeError>;

// ---- client side --------------------------------------------------------

// Decodes one text frame received from the server.
Decoded<ServerMessage> decode_server_frame(std::string_view text);

// Frames a client sends. `room` is included as the page does; the server
// overwrites it anyway. Descriptions and candidates are sent in the string
// form, as the page does.
std::string encode_join(std::string_view room);
std::string encode_description(const SessionDescription& d, std::string_view room);
std::string encode_candidate(const IceCandidate& c, std::string_view room);
std::string encode_chat(std::string_view text, std::string_view room);

// Parses a description / candidate given as a JSON string that holds JSON,
// or as a JSON object text. Exposed for tests and the browser-side glue.
Decoded<SessionDescription> parse_description_json(std::string_view json_object_text);
Decoded<IceCandidate> parse_candidate_json(std::string_view json_object_text);
std::string description_to_json(const SessionDescription& d);
std::string candidate_to_json(const IceCandidate& c);

// ---- server side --------------------------------------------------------

// A frame a client sent that the server relays: its type (one of join,
// offer, answer, ice-candidate, chat) and its `data` re-serialized as sent
// ("null" when absent).
struct ClientFrame {
  std::string type;
  std::string data_json;
};

// Returns nullopt for frames the server drops silently (unparsable, not an
// object, missing or unknown type, oversized).
std::optional<ClientFrame> decode_client_frame(std::string_view text);

// The copy the server sends to the other peer: room overwritten, user set to
// the receiver's own id, data as sent.
std::string relay_frame(const ClientFrame& f, std::string_view room, std::string_view receiver_user);
std::string make_join_frame(std::string_view room, std::string_view joiner);
std::string make_leave_frame(std::string_view room, std::string_view leaver);
std::string make_error_frame(std::string_view message);  // {"error":"..."}

// Exact error strings of the reference server.
inline constexpr std::string_view kErrRoomMissing = "room ID missing";
inline constexpr std::string_view kErrRoomNotFound = "room not found";
inline constexpr std::string_view kErrRoomFull = "room full";

}  // namespace callagent::signaling
