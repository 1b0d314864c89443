#include "server/ws_frame_codec.h"

#include <catch2/catch.hpp>

#include <string>

using namespace callagent::server;

namespace {

// A client frame: masked with a fixed key, as RFC 6455 requires of clients.
std::string client_frame(std::uint8_t first_byte, std::string_view payload, bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>(first_byte));
  const std::size_t len = payload.size();
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(len)));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((std::uint64_t{len} >> shift) & 0xFF));
  }
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < len; ++i)
    out.push_back(masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
  return out;
}

std::string text(std::string_view s) { return client_frame(0x81, s); }

WsEvent only_event(WsFrameDecoder& d, const std::string& bytes) {
  d.feed(bytes.data(), bytes.size());
  auto e = d.next();
  REQUIRE(e);
  return *e;
}

}  // namespace

TEST_CASE("a masked text frame is one message, whatever the read boundaries", "[ws]") {
  const std::string msg = R"({"type":"offer","data":"v=0"})";
  const std::string bytes = text(msg) + text("second");
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    INFO("split at " << cut);
    WsFrameDecoder d(1024);
    d.feed(bytes.data(), cut);
    std::vector<std::string> got;
    while (auto e = d.next()) got.push_back(e->payload);
    d.feed(bytes.data() + cut, bytes.size() - cut);
    while (auto e = d.next()) got.push_back(e->payload);
    REQUIRE(got.size() == 2);
    CHECK(got[0] == msg);
    CHECK(got[1] == "second");
  }
}

TEST_CASE("16- and 64-bit lengths, and the limit", "[ws]") {
  WsFrameDecoder d(100000);
  std::string big(70000, 'a');
  auto e = only_event(d, text(std::string(300, 'b')));
  CHECK(e.payload.size() == 300);
  e = only_event(d, text(big));
  CHECK(e.payload == big);

  WsFrameDecoder small(1000);
  // Refused from the header alone, before the payload arrives; dropped
  // without a close frame, as libsoup did.
  std::string header = text(std::string(1001, 'c')).substr(0, 8);
  e = only_event(small, header);
  CHECK(e.kind == WsEvent::Kind::Error);
  CHECK(e.code == ws::kCloseTooBig);
  CHECK(e.drop);
  CHECK_FALSE(small.next());
}

TEST_CASE("fragments are joined; control frames may come between them", "[ws]") {
  WsFrameDecoder d(1024);
  std::string bytes = client_frame(0x01, "hel") + client_frame(0x89, "p") + client_frame(0x80, "lo");
  d.feed(bytes.data(), bytes.size());
  auto e = d.next();
  REQUIRE(e);
  CHECK(e->kind == WsEvent::Kind::Ping);
  CHECK(e->payload == "p");
  e = d.next();
  REQUIRE(e);
  CHECK(e->kind == WsEvent::Kind::Message);
  CHECK(e->payload == "hello");
}

TEST_CASE("what breaks the framing is a protocol error", "[ws]") {
  struct Bad {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::string nonminimal = client_frame(0x81, "x");
  nonminimal[1] = static_cast<char>(0x80 | 126);
  nonminimal.insert(2, std::string("\x00\x01", 2));
  const Bad cases[] = {
      {"unmasked", client_frame(0x81, "hi", false), ws::kCloseProtocolError},
      {"reserved bit", client_frame(0xC1, "hi"), ws::kCloseProtocolError},
      {"reserved opcode", client_frame(0x83, "hi"), ws::kCloseProtocolError},
      {"continuation first", client_frame(0x80, "hi"), ws::kCloseProtocolError},
      {"new message inside a fragmented one", client_frame(0x01, "a") + client_frame(0x81, "b"),
       ws::kCloseProtocolError},
      {"fragmented ping", client_frame(0x09, ""), ws::kCloseProtocolError},
      {"long ping", client_frame(0x89, std::string(126, 'p')), ws::kCloseProtocolError},
      {"length not in its shortest form", nonminimal, ws::kCloseProtocolError},
      {"text that is not UTF-8", text("\xC3\x28"), ws::kCloseBadData},
      {"overlong UTF-8", text("\xC0\xAF"), ws::kCloseBadData},
      {"UTF-16 surrogate", text("\xED\xA0\x80"), ws::kCloseBadData},
      {"close with one byte", client_frame(0x88, "\x03"), ws::kCloseProtocolError},
      {"close with a reserved code", client_frame(0x88, std::string("\x03\xED", 2)), ws::kCloseProtocolError},
      {"close with code 999", client_frame(0x88, std::string("\x03\xE7", 2)), ws::kCloseProtocolError},
  };
  for (const Bad& b : cases) {
    INFO(b.what);
    WsFrameDecoder d(1024);
    auto e = only_event(d, b.bytes);
    CHECK(e.kind == WsEvent::Kind::Error);
    CHECK(e.code == b.code);
    CHECK_FALSE(e.drop);
    CHECK_FALSE(d.next());
  }
}

TEST_CASE("binary messages are not checked for UTF-8", "[ws]") {
  WsFrameDecoder d(1024);
  auto e = only_event(d, client_frame(0x82, "\xff\x00"));
  CHECK(e.kind == WsEvent::Kind::Message);
  CHECK(e.binary);
}

TEST_CASE("close frames: code and reason, or none", "[ws]") {
  WsFrameDecoder d(1024);
  auto e = only_event(d, client_frame(0x88, std::string("\x03\xE8" "bye", 5)));
  CHECK(e.kind == WsEvent::Kind::Close);
  CHECK(e.code == 1000);
  CHECK(e.payload == "bye");
  CHECK_FALSE(d.next());  // nothing after a close

  WsFrameDecoder d2(1024);
  e = only_event(d2, client_frame(0x88, ""));
  CHECK(e.kind == WsEvent::Kind::Close);
  CHECK(e.code == ws::kCloseNoStatus);

  WsFrameDecoder d3(1024);
  e = only_event(d3, client_frame(0x88, std::string("\x0F\xA0", 2)));  // 4000: an application's
  CHECK(e.code == 4000);
}

TEST_CASE("server frames are unmasked, with the shortest length", "[ws]") {
  CHECK(ws_encode_frame(ws::kText, "hi") == std::string("\x81\x02hi", 4));
  std::string f = ws_encode_frame(ws::kText, std::string(300, 'x'));
  CHECK(f.substr(0, 4) == std::string("\x81\x7e\x01\x2c", 4));
  CHECK(f.size() == 304);
  f = ws_encode_frame(ws::kBinary, std::string(70000, 'x'));
  CHECK(f.substr(0, 2) == std::string("\x82\x7f", 2));
  CHECK(f.size() == 70010);
  CHECK(ws_encode_close(1001, "going") == std::string("\x88\x07\x03\xe9going", 9));
  CHECK(ws_encode_close(0) == std::string("\x88\x00", 2));
  CHECK(ws_encode_frame(ws::kPing, {}) == std::string("\x89\x00", 2));
}

TEST_CASE("UTF-8 validation", "[ws]") {
  CHECK(utf8_valid(""));
  CHECK(utf8_valid("plain"));
  CHECK(utf8_valid("gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(utf8_valid("\xE2\x82"));          // cut short
  CHECK_FALSE(utf8_valid("\x80"));
}
