#pragma once
// WebSocket framing (RFC 6455) for the server's side of a connection: the
// decoder takes the bytes a client sent, the encoder makes the frames the
// server sends. No I/O: WsConnection feeds it what it reads.
//
// Why the server frames WebSockets itself instead of through libsoup's
// SoupWebsocketConnection: libsoup keeps a GSource per connection in the
// main context and re-creates it after every read, and GLib's main loop
// walks every source and every polled descriptor on each wake-up (and its
// poll-record list on every add and remove). With 1000 quiet connections
// that made each relayed frame cost ~3x what it costs with 100 busy ones
// (docs/measurements.md, "Signaling server"). Here all WebSockets share one
// epoll descriptor (FdPoller) and the work per frame does not depend on
// how many connections are open.
//
// Rules kept as libsoup 3.2 applied them (the server's behaviour did not
// change): client frames must be masked, reserved bits zero, lengths in
// their shortest form, control frames unfragmented and at most 125 bytes;
// fragments must come in order; a text message must be valid UTF-8 (else
// close 1007); a frame larger than the limit ends the connection at once
// (1009, without a close frame: the client sees 1006); a close frame's
// code must be one a peer may send, its reason UTF-8 (else 1002).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callagent::server {

namespace ws {
constexpr std::uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                       kPong = 0xA;
constexpr std::uint16_t kCloseNormal = 1000, kCloseGoingAway = 1001, kCloseProtocolError = 1002,
                        kCloseNoStatus = 1005, kCloseBadData = 1007, kCloseTooBig = 1009;
}  // namespace ws

struct WsEvent {
  enum class Kind {
    Message,  // a complete text or binary message: `payload`
    Ping,     // answer with a pong carrying `payload`
    Pong,
    Close,    // the peer's close frame: `code` (1005 when it had none), `payload` = reason
    Error,    // the stream broke a rule: close with `code`; `drop` = without a close frame
  };
  Kind kind;
  std::string payload;
  std::uint16_t code = 0;
  bool binary = false;
  bool drop = false;
};

class WsFrameDecoder {
 public:
  explicit WsFrameDecoder(std::size_t max_payload_bytes) : max_payload_(max_payload_bytes) {}

  void feed(const char* data, std::size_t len) { buf_.append(data, len); }
  // The next event, or nullopt when more bytes are needed. After an Error
  // or a Close it returns nullopt for good.
  std::optional<WsEvent> next();
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::optional<WsEvent> fail(std::uint16_t code, bool drop = false);

  std::size_t max_payload_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string message_;
  std::uint8_t message_opcode_ = 0;  // 0: no fragmented message under way
  bool done_ = false;
};

// One unfragmented, unmasked frame (the server never masks).
std::string ws_encode_frame(std::uint8_t opcode, std::string_view payload);
// A close frame: code and reason (cut to fit the 125-byte limit); code 0
// makes an empty close frame.
std::string ws_encode_close(std::uint16_t code, std::string_view reason = {});

bool utf8_valid(std::string_view s);

}  // namespace callagent::server
