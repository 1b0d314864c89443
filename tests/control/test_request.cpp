// The control protocol's lines and the commands' checks (src/control/request.h, command.h).
#include "control/command.h"
#include "control/request.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::control;

TEST_CASE("control request: a valid line keeps its id and args", "[control]") {
  Request r = parse_request(R"({"command": "mute", "args": {"audio": true}, "id": 7})");
  REQUIRE(r.error.empty());
  CHECK(r.command == "mute");
  REQUIRE(r.id);
  CHECK(json_node_get_int(r.id.get()) == 7);
  CHECK(ok_line(r.id.get(), nullptr) == R"({"id":7,"ok":true})");
  CHECK(error_line(r.id.get(), "no") == R"({"id":7,"ok":false,"error":"no"})");
  auto cmd = to_command(r);
  REQUIRE(cmd);
  CHECK(cmd->kind == Command::Kind::Mute);
  CHECK(cmd->audio);
  CHECK_FALSE(cmd->video);
}

TEST_CASE("control request: a string id comes back as sent; no id is null", "[control]") {
  Request r = parse_request(R"({"command":"status","id":"a\"b"})");
  REQUIRE(r.error.empty());
  CHECK(ok_line(r.id.get(), nullptr) == R"({"id":"a\"b","ok":true})");
  Request n = parse_request(R"({"command":"status"})");
  CHECK(ok_line(n.id.get(), nullptr) == R"({"id":null,"ok":true})");
}

TEST_CASE("control request: bad lines are refused with a reason", "[control]") {
  CHECK_THAT(parse_request("hello").error, Catch::StartsWith("not JSON"));
  CHECK_THAT(parse_request("[1,2]").error, Catch::Contains("JSON object"));
  CHECK_THAT(parse_request(R"({"id":3})").error, Catch::Contains("command"));
  CHECK_THAT(parse_request(R"({"command":5})").error, Catch::Contains("command"));
  CHECK_THAT(parse_request(R"({"command":"mute","args":[1]})").error, Catch::Contains("args"));
  Request bad = parse_request(R"({"command":"mute","args":7,"id":9})");
  REQUIRE(bad.id);  // the reply still names the request
  CHECK(json_node_get_int(bad.id.get()) == 9);
  std::string big = R"({"command":"chat","args":{"text":")" + std::string(kMaxLineBytes, 'x') + "\"}}";
  CHECK_THAT(parse_request(big).error, Catch::Contains("too long"));
}

TEST_CASE("control commands: args are checked", "[control]") {
  auto check = [](const char* line) { return to_command(parse_request(line)); };
  CHECK_FALSE(check(R"({"command":"mute"})"));                           // which track?
  CHECK_FALSE(check(R"({"command":"mute","args":{"audio":1}})"));        // not a boolean
  CHECK_FALSE(check(R"({"command":"mute","args":{"volume":true}})"));    // unknown member
  CHECK_FALSE(check(R"({"command":"chat","args":{}})"));
  CHECK_FALSE(check(R"({"command":"chat","args":{"text":""}})"));
  CHECK_FALSE(check(R"({"command":"status","args":{"x":1}})"));
  CHECK_FALSE(check(R"({"command":"subscribe","args":{"events":["nope"]}})"));
  CHECK_FALSE(check(R"({"command":"subscribe","args":{"events":"chat"}})"));
  CHECK_FALSE(check(R"({"command":"fly"})"));
  auto e = check(R"({"command":"fly"})");
  CHECK(e.error().code == ExitCode::Usage);
  CHECK_THAT(e.error().message, Catch::Contains("unknown command"));

  auto h = check(R"({"command":"hangup","args":{"rejoin":true}})");
  REQUIRE(h);
  CHECK(h->kind == Command::Kind::Hangup);
  CHECK(h->rejoin);
  auto s = check(R"({"command":"subscribe","args":{"events":["chat","stats"]}})");
  REQUIRE(s);
  CHECK(s->events == std::vector<std::string>{"chat", "stats"});
  auto all = check(R"({"command":"subscribe","args":{"events":["all"]}})");
  REQUIRE(all);
  CHECK(all->events.empty());
  auto snap = check(R"({"command":"snapshot","args":{"path":"/tmp/x.png"}})");
  REQUIRE(snap);
  CHECK(snap->path == "/tmp/x.png");
}

TEST_CASE("control words: ctl and --script make the same requests", "[control]") {
  auto words = [](std::vector<std::string> w) {
    auto r = request_from_words(w);
    REQUIRE(r);
    return request_line(*r);
  };
  CHECK(words({"mute", "audio"}) == R"({"command":"mute","args":{"audio":true}})");
  CHECK(words({"mute", "--audio", "--video"}) == R"({"command":"mute","args":{"audio":true,"video":true}})");
  CHECK(words({"unmute", "both"}) == R"({"command":"unmute","args":{"audio":true,"video":true}})");
  CHECK(words({"hangup", "rejoin"}) == R"({"command":"hangup","args":{"rejoin":true}})");
  CHECK(words({"hangup"}) == R"({"command":"hangup"})");
  CHECK(words({"chat", "hello", "there"}) == R"({"command":"chat","args":{"text":"hello there"}})");
  CHECK(words({"snapshot", "/tmp/a.png"}) == R"({"command":"snapshot","args":{"path":"/tmp/a.png"}})");
  CHECK(words({"subscribe", "chat"}) == R"({"command":"subscribe","args":{"events":["chat"]}})");
  CHECK(words({"quit"}) == R"({"command":"quit"})");
  CHECK(words({"set", "video", "480p", "fps", "15"}) == R"({"command":"set","args":{"video":"480p","fps":15}})");
  CHECK(words({"set", "--bitrate", "800", "audio", "low"}) ==
        R"({"command":"set","args":{"bitrate":800,"audio":"low"}})");
  CHECK(words({"source", "video", "v4l2:/dev/video1", "audio", "test"}) ==
        R"({"command":"source","args":{"video":"v4l2:/dev/video1","audio":"test"}})");
  CHECK_FALSE(request_from_words({"source", "video"}));
  CHECK_FALSE(request_from_words({"source", "screen", "x"}));
  CHECK_FALSE(request_from_words({"set", "fps", "fast"}));
  CHECK_FALSE(request_from_words({"set", "video"}));
  CHECK_FALSE(request_from_words({"set", "size", "480p"}));
  CHECK_FALSE(request_from_words({"mute", "loudly"}));
  CHECK_FALSE(request_from_words({"status", "now"}));
  CHECK_FALSE(request_from_words({"snapshot", "a", "b"}));
  CHECK_FALSE(request_from_words({"jump"}));
  CHECK_FALSE(request_from_words({}));
  // Words become requests that the agent checks as any other.
  auto r = request_from_words({"chat"});
  REQUIRE(r);
  CHECK_FALSE(to_command(*r));
}
