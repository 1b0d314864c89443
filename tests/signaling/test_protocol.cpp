// The protocol codec, quirk by quirk (docs/protocol.md lists them).
#include "signaling/protocol.h"

#include <catch2/catch.hpp>

#include <string>

using namespace callagent::signaling;

namespace {
template <typename T>
T as(const Decoded<ServerMessage>& d) {
  if (auto* e = std::get_if<DecodeError>(&d)) FAIL("decode error: " << e->reason);
  const auto& m = std::get<ServerMessage>(d);
  REQUIRE(std::holds_alternative<T>(m));
  return std::get<T>(m);
}
std::string error_of(const Decoded<ServerMessage>& d) {
  REQUIRE(std::holds_alternative<DecodeError>(d));
  return std::get<DecodeError>(d).reason;
}
const char* kSdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
}  // namespace

TEST_CASE("server-made join carries the joiner's id and a message object") {
  auto d = decode_server_frame(
      R"({"type":"join","data":{"message":"joined the call"},"room":"r1","user":"user_0a1b2c3d"})");
  const auto j = as<JoinMsg>(d);
  CHECK(j.server_made);
  CHECK(j.user == "user_0a1b2c3d");
  CHECK(j.room == "r1");
}

TEST_CASE("relayed join has data null (or absent) and is not server-made") {
  CHECK_FALSE(as<JoinMsg>(decode_server_frame(R"({"type":"join","data":null,"room":"r","user":"user_1"})")).server_made);
  CHECK_FALSE(as<JoinMsg>(decode_server_frame(R"({"type":"join","room":"r","user":"user_1"})")).server_made);
}

TEST_CASE("leave frame") {
  const auto l = as<LeaveMsg>(decode_server_frame(
      R"({"type":"leave","data":{"message":"left the call"},"room":"r","user":"user_2"})"));
  CHECK(l.user == "user_2");
}

TEST_CASE("offer as a JSON string holding the description (the page's form)") {
  std::string inner = description_to_json({"offer", kSdp});
  std::string frame = encode_description({"offer", kSdp}, "room-1");
  // The encoded data must be a string, exactly as the page sends it.
  CHECK(frame.find("\"data\":\"{\\\"type\\\":\\\"offer\\\"") != std::string::npos);
  const auto o = as<OfferMsg>(decode_server_frame(frame));
  CHECK(o.description.type == "offer");
  CHECK(o.description.sdp == kSdp);
}

TEST_CASE("answer given as the object itself is accepted") {
  std::string frame = std::string(R"({"type":"answer","data":)") + description_to_json({"answer", kSdp}) +
                      R"(,"room":"r","user":"u"})";
  const auto a = as<AnswerMsg>(decode_server_frame(frame));
  CHECK(a.description.sdp == kSdp);
}

TEST_CASE("offer whose data holds an answer is rejected") {
  std::string frame = encode_description({"answer", kSdp}, "r");
  frame.replace(frame.find("\"type\":\"answer\"", 0), 15, "\"type\":\"offer\"");
  CHECK(error_of(decode_server_frame(frame)).find("description of type 'answer'") != std::string::npos);
}

TEST_CASE("offer without sdp, with non-JSON string, with a number are errors, never crashes") {
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"offer","data":"{\"type\":\"offer\"}"})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"offer","data":"not json"})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"offer","data":42})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"offer","data":null})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"offer","data":"[1,2]"})")).empty());
}

TEST_CASE("Chromium candidate with extra attributes, as a string") {
  std::string cand =
      "candidate:1 1 udp 2113937151 127.0.0.1 46022 typ host generation 0 ufrag X network-id 1 "
      "network-cost 50";
  std::string data = std::string(R"({"candidate":")") + cand +
                     R"(","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"X"})";
  IceCandidate c;
  c.candidate = cand;
  c.sdp_mid = "0";
  c.sdp_mline_index = 0;
  c.username_fragment = "X";
  std::string frame = encode_candidate(c, "r");
  const auto m = as<CandidateMsg>(decode_server_frame(frame));
  CHECK(m.candidate.candidate == cand);
  CHECK(m.candidate.sdp_mid == std::optional<std::string>("0"));
  CHECK(m.candidate.sdp_mline_index == std::optional<int>(0));
  CHECK(m.candidate.username_fragment == std::optional<std::string>("X"));
  auto p = parse_candidate_json(data);
  REQUIRE(std::holds_alternative<IceCandidate>(p));
  CHECK(std::get<IceCandidate>(p).candidate == cand);
}

TEST_CASE("candidate with null sdpMid but an index, and as an object") {
  const auto m = as<CandidateMsg>(decode_server_frame(
      R"({"type":"ice-candidate","data":{"candidate":"candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype active","sdpMid":null,"sdpMLineIndex":1},"room":"r","user":"u"})"));
  CHECK_FALSE(m.candidate.sdp_mid);
  CHECK(m.candidate.sdp_mline_index == std::optional<int>(1));
}

TEST_CASE("candidate type errors") {
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"ice-candidate","data":"{\"candidate\":5,\"sdpMid\":\"0\"}"})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"ice-candidate","data":{"candidate":"c","sdpMLineIndex":"0"}})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"ice-candidate","data":{"candidate":"c"}})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"ice-candidate","data":{"candidate":"c","sdpMLineIndex":-1}})")).empty());
}

TEST_CASE("chat is a plain string; other data types are errors") {
  std::string frame = encode_chat("héllo \"you\"\n", "r");
  CHECK(as<ChatMsg>(decode_server_frame(frame)).text == "héllo \"you\"\n");
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"chat","data":{"text":"x"}})")).empty());
}

TEST_CASE("error frames have no type") {
  CHECK(as<ServerErrorMsg>(decode_server_frame(R"({"error":"room full"})")).kind == ServerErrorKind::RoomFull);
  CHECK(as<ServerErrorMsg>(decode_server_frame(R"({"error":"room not found"})")).kind == ServerErrorKind::RoomNotFound);
  CHECK(as<ServerErrorMsg>(decode_server_frame(R"({"error":"room ID missing"})")).kind == ServerErrorKind::RoomMissing);
  const auto other = as<ServerErrorMsg>(decode_server_frame(R"({"error":"something else"})"));
  CHECK(other.kind == ServerErrorKind::Other);
  CHECK(other.message == "something else");
  CHECK(make_error_frame(kErrRoomFull) == R"({"error":"room full"})");
}

TEST_CASE("unknown types are ignored, not errors") {
  CHECK(as<IgnoredMsg>(decode_server_frame(R"({"type":"typing","data":1})")).type == "typing");
}

TEST_CASE("invalid JSON, non-objects, wrong field types and oversized frames are errors") {
  CHECK_FALSE(error_of(decode_server_frame("{")).empty());
  CHECK_FALSE(error_of(decode_server_frame("")).empty());
  CHECK_FALSE(error_of(decode_server_frame("[]")).empty());
  CHECK_FALSE(error_of(decode_server_frame("\"join\"")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":5})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"data":null})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"join","room":7})")).empty());
  CHECK_FALSE(error_of(decode_server_frame(R"({"type":"join","user":[]})")).empty());
  std::string big = R"({"type":"chat","data":")" + std::string(kMaxFrameBytes, 'a') + "\"}";
  CHECK(error_of(decode_server_frame(big)).find("exceeds") != std::string::npos);
}

TEST_CASE("join as the page sends it: room, no data") {
  CHECK(encode_join("abc") == R"({"type":"join","room":"abc"})");
}

TEST_CASE("server: client frames of relayed types are decoded with data as sent") {
  auto f = decode_client_frame(R"({"type":"offer","data":"{\"type\":\"offer\",\"sdp\":\"x\"}","room":"ignored"})");
  REQUIRE(f);
  CHECK(f->type == "offer");
  CHECK(f->data_json == R"("{\"type\":\"offer\",\"sdp\":\"x\"}")");
  auto j = decode_client_frame(R"({"type":"join","room":"r"})");
  REQUIRE(j);
  CHECK(j->data_json == "null");
  auto o = decode_client_frame(R"({"type":"chat","data":{"a":[1,2,{"b":null}]}})");
  REQUIRE(o);
  CHECK(o->data_json == R"({"a":[1,2,{"b":null}]})");
}

TEST_CASE("server: other types and unparsable frames are dropped") {
  CHECK_FALSE(decode_client_frame(R"({"type":"leave"})"));
  CHECK_FALSE(decode_client_frame(R"({"type":"typing"})"));
  CHECK_FALSE(decode_client_frame(R"({"type":5})"));
  CHECK_FALSE(decode_client_frame(R"({"data":"x"})"));
  CHECK_FALSE(decode_client_frame("not json"));
  CHECK_FALSE(decode_client_frame("[1]"));
  CHECK_FALSE(decode_client_frame(std::string(kMaxFrameBytes + 1, ' ')));
}

TEST_CASE("server: the relayed copy overwrites room and carries the receiver's id") {
  auto f = decode_client_frame(R"({"type":"chat","data":"hi","room":"spoofed","user":"user_spoof"})");
  REQUIRE(f);
  std::string out = relay_frame(*f, "real-room", "user_receiver");
  CHECK(out == R"({"type":"chat","data":"hi","room":"real-room","user":"user_receiver"})");
  const auto c = as<ChatMsg>(decode_server_frame(out));
  CHECK(c.user == "user_receiver");
  CHECK(c.room == "real-room");
  auto j = decode_client_frame(R"({"type":"join","room":"r"})");
  CHECK(relay_frame(*j, "r", "u") == R"({"type":"join","data":null,"room":"r","user":"u"})");
}

TEST_CASE("server-made frames") {
  CHECK(make_join_frame("r", "user_1") ==
        R"({"type":"join","data":{"message":"joined the call"},"room":"r","user":"user_1"})");
  CHECK(make_leave_frame("r", "user_1") ==
        R"({"type":"leave","data":{"message":"left the call"},"room":"r","user":"user_1"})");
  CHECK(as<JoinMsg>(decode_server_frame(make_join_frame("r", "user_1"))).server_made);
}
