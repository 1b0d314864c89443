// --script files (src/control/script.h).
#include "control/script.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::control;
using std::chrono::milliseconds;

TEST_CASE("script: times, commands, comments", "[control][script]") {
  auto s = parse_script(
      "# a scenario\n"
      "5s mute audio\n"
      "\n"
      "10s unmute audio   # back\n"
      "1.5s chat hello there\n"
      "15s hangup rejoin\r\n"
      "500ms keyframe\n"
      "2m quit\n",
      "s.txt");
  REQUIRE(s);
  REQUIRE(s->size() == 6);
  CHECK((*s)[0].at == milliseconds(5000));
  CHECK((*s)[0].line == 2);
  CHECK((*s)[0].command.kind == Command::Kind::Mute);
  CHECK((*s)[0].command.audio);
  CHECK((*s)[1].text == "10s unmute audio");
  CHECK((*s)[2].at == milliseconds(1500));
  CHECK((*s)[2].command.text == "hello there");
  CHECK((*s)[3].command.rejoin);
  CHECK((*s)[4].at == milliseconds(500));
  CHECK((*s)[5].at == milliseconds(120000));
  CHECK((*s)[5].command.kind == Command::Kind::Quit);
}

TEST_CASE("script: a bad line is a usage error naming file and line", "[control][script]") {
  auto fails = [](const char* text) {
    auto s = parse_script(text, "scene.txt");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ExitCode::Usage);
    return s.error().message;
  };
  CHECK_THAT(fails("5s mute audio\nsoon quit\n"), Catch::StartsWith("scene.txt:2: ") && Catch::Contains("no time"));
  CHECK_THAT(fails("# ok\n5s\n"), Catch::StartsWith("scene.txt:2: "));
  CHECK_THAT(fails("5s fly\n"), Catch::StartsWith("scene.txt:1: ") && Catch::Contains("unknown command"));
  CHECK_THAT(fails("5s mute\n"), Catch::Contains("scene.txt:1: "));
  CHECK_THAT(fails("\n\n3s chat\n"), Catch::StartsWith("scene.txt:3: "));
  CHECK_THAT(fails("3s subscribe chat\n"), Catch::Contains("socket"));
  CHECK_THAT(fails("-3s quit\n"), Catch::Contains("no time"));
}

TEST_CASE("script: step times", "[control][script]") {
  CHECK(*parse_step_time("7") == milliseconds(7000));
  CHECK(*parse_step_time("0s") == milliseconds(0));
  CHECK(*parse_step_time("250ms") == milliseconds(250));
  CHECK_FALSE(parse_step_time("5x"));
  CHECK_FALSE(parse_step_time("s"));
  CHECK_FALSE(parse_step_time(""));
}

TEST_CASE("script: an unreadable file is no-input", "[control][script]") {
  auto s = load_script("/nonexistent/scenario.txt");
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ExitCode::NoInput);
}
