// The dispatcher over a fake target (src/control/dispatcher.h): every
// command reaches the target, refusals come back as error replies.
#include "control/dispatcher.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::control;

namespace {

class FakeTarget final : public ControlTarget {
 public:
  bool audio = false, video = false;
  std::vector<std::string> calls;
  bool in_room = true;

  void set_muted(bool a, bool v, bool m) override {
    if (a) audio = m;
    if (v) video = m;
    calls.push_back(m ? "mute" : "unmute");
  }
  bool audio_muted() const override { return audio; }
  bool video_muted() const override { return video; }
  GUnique<JsonObject> status() override {
    GUnique<JsonObject> o(json_object_new());
    json_object_set_string_member(o.get(), "state", "connected");
    return o;
  }
  Result<JsonNodePtr> stats() override { return Error{ExitCode::Unavailable, "no stats interval yet"}; }
  Status hangup(bool rejoin) override {
    calls.push_back(rejoin ? "hangup-rejoin" : "hangup");
    if (!in_room && !rejoin) return Error{ExitCode::Usage, "not in the room"};
    return Ok{};
  }
  Status quit() override {
    calls.push_back("quit");
    return Ok{};
  }
  Status chat(const std::string& t) override {
    calls.push_back("chat:" + t);
    return Ok{};
  }
  Status keyframe() override { return Error{ExitCode::Unavailable, "no partner connection"}; }
  Result<std::string> snapshot(const std::string& p) override { return p.empty() ? "/default.png" : p; }
  Result<GUnique<JsonObject>> set_media(const Command& c) override {
    if (c.video_size && *c.video_size == "8k") return Error{ExitCode::Usage, "unknown video preset '8k'"};
    calls.push_back("set:" + c.video_size.value_or("-") + "/" + (c.fps ? std::to_string(*c.fps) : "-") + "/" +
                    (c.bitrate_kbps ? std::to_string(*c.bitrate_kbps) : "-") + "/" + c.audio_preset.value_or("-"));
    GUnique<JsonObject> o(json_object_new());
    json_object_set_int_member(o.get(), "fps", c.fps.value_or(30));
    return o;
  }
  Result<GUnique<JsonObject>> set_source(const Command& c) override {
    calls.push_back("source:" + c.video_source.value_or("-") + "/" + c.audio_source.value_or("-"));
    return GUnique<JsonObject>(json_object_new());
  }
};

}  // namespace

TEST_CASE("dispatcher: mute and unmute reach the target and reply the flags", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  auto o = d.dispatch(parse_request(R"({"command":"mute","args":{"audio":true},"id":1})"), nullptr);
  CHECK(o.ok);
  CHECK(o.line == R"({"id":1,"ok":true,"audio_muted":true,"video_muted":false})");
  o = d.dispatch(parse_request(R"({"command":"unmute","args":{"audio":true,"video":true},"id":2})"), nullptr);
  CHECK(o.line == R"({"id":2,"ok":true,"audio_muted":false,"video_muted":false})");
  CHECK(t.calls == std::vector<std::string>{"mute", "unmute"});
}

TEST_CASE("dispatcher: refusals are error replies with the request's id", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  auto o = d.dispatch(parse_request(R"({"command":"keyframe","id":"k"})"), nullptr);
  CHECK_FALSE(o.ok);
  CHECK(o.line == R"({"id":"k","ok":false,"error":"no partner connection"})");
  o = d.dispatch(parse_request("not json"), nullptr);
  CHECK_FALSE(o.ok);
  CHECK_THAT(o.line, Catch::Contains("not JSON"));
  o = d.dispatch(parse_request(R"({"command":"stats","id":3})"), nullptr);
  CHECK_FALSE(o.ok);
  o = d.dispatch(parse_request(R"({"command":"fly","id":4})"), nullptr);
  CHECK(o.line == R"({"id":4,"ok":false,"error":"unknown command \"fly\""})");
  CHECK(t.calls.empty());
}

TEST_CASE("dispatcher: status, chat, snapshot, hangup, quit", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  CHECK(d.dispatch(parse_request(R"({"command":"status","id":1})"), nullptr).line ==
        R"({"id":1,"ok":true,"state":"connected"})");
  CHECK(d.dispatch(parse_request(R"({"command":"chat","args":{"text":"hi"},"id":2})"), nullptr).ok);
  CHECK(d.dispatch(parse_request(R"({"command":"snapshot","id":3})"), nullptr).line ==
        R"({"id":3,"ok":true,"path":"/default.png"})");
  CHECK(d.dispatch(parse_request(R"({"command":"hangup","args":{"rejoin":true},"id":4})"), nullptr).line ==
        R"({"id":4,"ok":true,"rejoin":true})");
  t.in_room = false;
  CHECK_FALSE(d.dispatch(parse_request(R"({"command":"hangup","id":5})"), nullptr).ok);
  CHECK(d.dispatch(parse_request(R"({"command":"quit","id":6})"), nullptr).ok);
  CHECK(t.calls == std::vector<std::string>{"chat:hi", "hangup-rejoin", "hangup", "quit"});
}

TEST_CASE("dispatcher: subscriptions belong to socket clients", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  CHECK_FALSE(d.dispatch(parse_request(R"({"command":"subscribe"})"), nullptr).ok);
  Subscription sub;
  CHECK_FALSE(sub.wants("chat"));
  auto o = d.dispatch(parse_request(R"({"command":"subscribe","args":{"events":["chat","stats"]},"id":1})"), &sub);
  CHECK(o.line == R"({"id":1,"ok":true,"events":["chat","stats"]})");
  CHECK(sub.wants("chat"));
  CHECK_FALSE(sub.wants("muted"));
  d.dispatch(parse_request(R"({"command":"unsubscribe","args":{"events":["stats"]}})"), &sub);
  CHECK_FALSE(sub.wants("stats"));
  d.dispatch(parse_request(R"({"command":"subscribe"})"), &sub);
  CHECK(sub.wants("muted"));
  CHECK(sub.names() == std::vector<std::string>{"all"});
  d.dispatch(parse_request(R"({"command":"unsubscribe","args":{"events":["stats"]}})"), &sub);
  CHECK(sub.wants("muted"));
  CHECK_FALSE(sub.wants("stats"));
  d.dispatch(parse_request(R"({"command":"unsubscribe"})"), &sub);
  CHECK(sub.empty());
}

TEST_CASE("dispatcher: set reaches the target with what to change; bad values are refused", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  auto o = d.dispatch(parse_request(R"({"command":"set","args":{"video":"480p","fps":15},"id":1})"), nullptr);
  CHECK(o.ok);
  CHECK(o.line == R"({"id":1,"ok":true,"fps":15})");
  o = d.dispatch(parse_request(R"({"command":"set","args":{"bitrate":800,"audio":"low"},"id":2})"), nullptr);
  CHECK(o.ok);
  CHECK(t.calls == std::vector<std::string>{"set:480p/15/-/-", "set:-/-/800/low"});
  // Refused before the target: nothing to change, wrong types, unknown members.
  for (const char* bad : {R"({"command":"set","id":3})", R"({"command":"set","args":{"fps":"fast"},"id":3})",
                          R"({"command":"set","args":{"bitrate":-5},"id":3})",
                          R"({"command":"set","args":{"size":"480p"},"id":3})"}) {
    o = d.dispatch(parse_request(bad), nullptr);
    CHECK_FALSE(o.ok);
  }
  CHECK(t.calls.size() == 2);
  // Refused by the target: its message comes back.
  o = d.dispatch(parse_request(R"({"command":"set","args":{"video":"8k"},"id":4})"), nullptr);
  CHECK(o.line == R"({"id":4,"ok":false,"error":"unknown video preset '8k'"})");
}

TEST_CASE("dispatcher: source names the new sources; nothing named is refused", "[control]") {
  FakeTarget t;
  Dispatcher d(t);
  CHECK(d.dispatch(parse_request(R"({"command":"source","args":{"video":"file:/x.mp4,loop"},"id":1})"), nullptr).ok);
  CHECK_FALSE(d.dispatch(parse_request(R"({"command":"source","id":2})"), nullptr).ok);
  CHECK_FALSE(d.dispatch(parse_request(R"({"command":"source","args":{"video":3},"id":3})"), nullptr).ok);
  CHECK(t.calls == std::vector<std::string>{"source:file:/x.mp4,loop/-"});
}
