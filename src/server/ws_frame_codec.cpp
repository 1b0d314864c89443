#include "server/ws_frame_codec.h"

namespace callagent::server {

namespace {

bool close_code_allowed(std::uint16_t code) {
  switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008: case 1009: case 1010:
    case 1011:
      return true;
    default:
      return code >= 3000 && code < 5000;
  }
}

}  // namespace

bool utf8_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

std::optional<WsEvent> WsFrameDecoder::fail(std::uint16_t code, bool drop) {
  done_ = true;
  buf_.clear();
  pos_ = 0;
  WsEvent e{WsEvent::Kind::Error, {}, code};
  e.drop = drop;
  return e;
}

std::optional<WsEvent> WsFrameDecoder::next() {
  while (!done_) {
    const std::size_t avail = buf_.size() - pos_;
    if (avail < 2) break;
    const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
    const bool fin = h[0] & 0x80;
    const std::uint8_t opcode = h[0] & 0x0F;
    const bool control = opcode & 0x08;
    if (!(h[1] & 0x80)) return fail(ws::kCloseProtocolError);  // clients must mask
    std::uint64_t len = h[1] & 0x7F;
    std::size_t at = 2;
    if (len == 126) {
      at = 4;
      if (avail < at) break;
      len = (std::uint64_t{h[2]} << 8) | h[3];
      if (len <= 125) return fail(ws::kCloseProtocolError);
    } else if (len == 127) {
      at = 10;
      if (avail < at) break;
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
      if (len <= 0xFFFF || (len >> 63)) return fail(ws::kCloseProtocolError);
    }
    if (len > max_payload_) return fail(ws::kCloseTooBig, true);
    if (avail < at + 4 + len) break;
    if (h[0] & 0x70) return fail(ws::kCloseProtocolError);
    if (control && (!fin || len > 125)) return fail(ws::kCloseProtocolError);

    const unsigned char* mask = h + at;
    std::string payload(buf_.data() + pos_ + at + 4, static_cast<std::size_t>(len));
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
    pos_ += at + 4 + static_cast<std::size_t>(len);
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 64 * 1024) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }

    if (control) {
      if (opcode == ws::kPing) return WsEvent{WsEvent::Kind::Ping, std::move(payload)};
      if (opcode == ws::kPong) return WsEvent{WsEvent::Kind::Pong, std::move(payload)};
      if (opcode != ws::kClose) return fail(ws::kCloseProtocolError);
      if (payload.size() == 1) return fail(ws::kCloseProtocolError);
      WsEvent e{WsEvent::Kind::Close, {}, ws::kCloseNoStatus};
      if (payload.size() >= 2) {
        e.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                            static_cast<unsigned char>(payload[1]));
        e.payload = payload.substr(2);
        if (!close_code_allowed(e.code) || !utf8_valid(e.payload)) return fail(ws::kCloseProtocolError);
      }
      done_ = true;
      return e;
    }

    if (opcode == ws::kContinuation) {
      if (message_opcode_ == 0) return fail(ws::kCloseProtocolError);
    } else if (opcode == ws::kText || opcode == ws::kBinary) {
      if (message_opcode_ != 0) return fail(ws::kCloseProtocolError);
      message_opcode_ = opcode;
      message_.clear();
    } else {
      return fail(ws::kCloseProtocolError);
    }
    if (message_.size() + payload.size() > max_payload_) return fail(ws::kCloseTooBig, true);
    if (message_.empty() && fin)
      message_ = std::move(payload);
    else
      message_ += payload;
    if (!fin) continue;
    const bool binary = message_opcode_ == ws::kBinary;
    message_opcode_ = 0;
    if (!binary && !utf8_valid(message_)) return fail(ws::kCloseBadData);
    WsEvent e{WsEvent::Kind::Message, std::move(message_)};
    message_.clear();
    e.binary = binary;
    return e;
  }
  return std::nullopt;
}

std::string ws_encode_frame(std::uint8_t opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  out.push_back(static_cast<char>(0x80 | opcode));
  const std::uint64_t len = payload.size();
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    out.push_back(126);
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xFF));
  }
  out.append(payload);
  return out;
}

std::string ws_encode_close(std::uint16_t code, std::string_view reason) {
  if (code == 0) return ws_encode_frame(ws::kClose, {});
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));
  return ws_encode_frame(ws::kClose, payload);
}

}  // namespace callagent::server
