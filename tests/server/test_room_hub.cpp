#include "server/room_hub.h"

#include "signaling/protocol.h"

#include <catch2/catch.hpp>
#include <json-glib/json-glib.h>

#include <regex>

using namespace callagent::server;

namespace {

struct FakePeer : Peer {
  std::vector<std::string> got;
  void send_text(const std::string& text) override { got.push_back(text); }
};

// Numbered ids so expectations can name them.
RoomHub::UserIdMaker counting_ids() {
  auto n = std::make_shared<int>(0);
  return [n] { return "user_0000000" + std::to_string(++*n); };
}

// Compares JSON texts structurally (member order does not matter).
bool json_equal(const std::string& a, const std::string& b) {
  g_autoptr(JsonParser) pa = json_parser_new();
  g_autoptr(JsonParser) pb = json_parser_new();
  if (!json_parser_load_from_data(pa, a.c_str(), -1, nullptr)) return false;
  if (!json_parser_load_from_data(pb, b.c_str(), -1, nullptr)) return false;
  return json_node_equal(json_parser_get_root(pa), json_parser_get_root(pb));
}

}  // namespace

TEST_CASE("random user ids are user_ + 8 hex", "[hub]") {
  std::regex re("user_[0-9a-f]{8}");
  for (int i = 0; i < 20; ++i) CHECK(std::regex_match(RoomHub::random_user_id(), re));
}

TEST_CASE("the first peer gets the server-made join when the second arrives", "[hub]") {
  RoomHub hub(counting_ids());
  FakePeer a, b;
  auto ua = hub.join("R", a);
  REQUIRE(ua);
  CHECK(*ua == "user_00000001");
  CHECK(a.got.empty());
  auto ub = hub.join("R", b);
  REQUIRE(ub);
  CHECK(b.got.empty());  // the newcomer hears nothing from the server
  REQUIRE(a.got.size() == 1);
  CHECK(json_equal(a.got[0],
                   R"({"type":"join","data":{"message":"joined the call"},"room":"R","user":"user_00000002"})"));
}

TEST_CASE("a third connection is refused and changes nothing", "[hub]") {
  RoomHub hub(counting_ids());
  FakePeer a, b, c;
  REQUIRE(hub.join("R", a));
  REQUIRE(hub.join("R", b));
  CHECK(hub.full("R"));
  CHECK_FALSE(hub.join("R", c));
  CHECK(hub.connections() == 2);
  CHECK(a.got.size() == 1);
  CHECK(b.got.empty());
  // Another room is independent.
  CHECK(hub.join("S", c));
}

TEST_CASE("relayed frames carry the receiver's id, the room overwritten, data as sent", "[hub]") {
  RoomHub hub(counting_ids());
  FakePeer a, b;
  hub.join("R", a);  // user_00000001
  hub.join("R", b);  // user_00000002
  a.got.clear();

  SECTION("join from the page: data absent arrives as null") {
    hub.relay(b, R"({"type":"join","room":"whatever"})");
    REQUIRE(a.got.size() == 1);
    CHECK(json_equal(a.got[0], R"({"type":"join","data":null,"room":"R","user":"user_00000001"})"));
  }
  SECTION("offer data as a JSON string holding JSON") {
    hub.relay(b, R"({"type":"offer","data":"{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"})");
    REQUIRE(a.got.size() == 1);
    CHECK(json_equal(a.got[0],
                     R"({"type":"offer","data":"{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}","room":"R","user":"user_00000001"})"));
  }
  SECTION("answer data as an object, the other way") {
    hub.relay(a, R"({"type":"answer","data":{"type":"answer","sdp":"x"},"user":"forged"})");
    REQUIRE(b.got.size() == 1);
    CHECK(json_equal(b.got[0],
                     R"({"type":"answer","data":{"type":"answer","sdp":"x"},"room":"R","user":"user_00000002"})"));
  }
  SECTION("ice-candidate and chat") {
    hub.relay(b, R"({"type":"ice-candidate","data":"{\"candidate\":\"candidate:1\"}"})");
    hub.relay(b, R"({"type":"chat","data":"hello"})");
    REQUIRE(a.got.size() == 2);
    CHECK(json_equal(a.got[0],
                     R"({"type":"ice-candidate","data":"{\"candidate\":\"candidate:1\"}","room":"R","user":"user_00000001"})"));
    CHECK(json_equal(a.got[1], R"({"type":"chat","data":"hello","room":"R","user":"user_00000001"})"));
  }
  SECTION("unknown types, unparsable frames and non-objects are dropped") {
    hub.relay(b, R"({"type":"leave","data":null})");
    hub.relay(b, R"({"type":"bogus"})");
    hub.relay(b, R"({"data":"no type"})");
    hub.relay(b, "not json");
    hub.relay(b, "[1,2]");
    hub.relay(b, "");
    CHECK(a.got.empty());
    CHECK(b.got.empty());
  }
}

TEST_CASE("a lone peer's frames are dropped, not queued", "[hub]") {
  RoomHub hub(counting_ids());
  FakePeer a, b;
  hub.join("R", a);
  hub.relay(a, R"({"type":"offer","data":"x"})");
  hub.join("R", b);
  CHECK(b.got.empty());
  CHECK(a.got.size() == 1);  // only the server-made join
}

TEST_CASE("leaving tells the other peer and frees the place", "[hub]") {
  RoomHub hub(counting_ids());
  FakePeer a, b, c;
  hub.join("R", a);
  hub.join("R", b);
  a.got.clear();
  hub.leave(b);
  REQUIRE(a.got.size() == 1);
  CHECK(json_equal(a.got[0],
                   R"({"type":"leave","data":{"message":"left the call"},"room":"R","user":"user_00000002"})"));
  hub.leave(b);  // twice is harmless
  CHECK(a.got.size() == 1);
  auto uc = hub.join("R", c);  // a newcomer gets a new id
  REQUIRE(uc);
  CHECK(*uc == "user_00000003");
  hub.leave(a);
  hub.leave(c);
  CHECK(hub.active_rooms() == 0);
  CHECK(hub.connections() == 0);
}
