#include "stats/report.h"

#include <catch2/catch.hpp>
#include <json-glib/json-glib.h>

using namespace callagent::stats;

namespace {
JsonObject* parse(const std::string& text, JsonParser* p) {
  GError* err = nullptr;
  REQUIRE(json_parser_load_from_data(p, text.c_str(), -1, &err));
  return json_node_get_object(json_parser_get_root(p));
}
}  // namespace

TEST_CASE("report: a JSON line per snapshot", "[stats][report]") {
  Snapshot s;
  s.t = 3;
  s.interval = 1;
  s.state = "connected";
  s.video_in.active = true;
  s.video_in.codec = "VP8";
  s.video_in.fps = 29.5;
  s.video_in.jitter_ms = 1.25;
  s.audio_in.level_dbfs = -20;
  s.pair = CandidatePair{"host", "host", "udp", "127.0.0.1:1", "127.0.0.1:2"};
  std::string line = snapshot_to_json(s);
  CHECK(line.find('\n') == std::string::npos);
  JsonParser* p = json_parser_new();
  JsonObject* o = parse(line, p);
  CHECK(std::string(json_object_get_string_member(o, "schema")) == kStatsSchema);
  JsonObject* vin = json_object_get_object_member(json_object_get_object_member(o, "video"), "in");
  CHECK(json_object_get_double_member(vin, "fps") == Approx(29.5));
  CHECK(json_object_has_member(vin, "frames_decoded"));
  JsonObject* aout = json_object_get_object_member(json_object_get_object_member(o, "audio"), "out");
  CHECK(json_object_has_member(aout, "rtt_ms"));
  CHECK(json_node_is_null(json_object_get_member(aout, "rtt_ms")));
  CHECK(json_node_is_null(json_object_get_member(o, "latency")));
  CHECK(std::string(json_object_get_string_member(json_object_get_object_member(o, "candidate_pair"),
                                                  "protocol")) == "udp");
  g_object_unref(p);
}

TEST_CASE("report: the congestion block of an interval", "[stats][report][congestion]") {
  Snapshot s;
  s.state = "connected";
  std::string line = snapshot_to_json(s);
  JsonParser* p = json_parser_new();
  JsonObject* o = parse(line, p);
  CHECK(json_node_is_null(json_object_get_member(o, "congestion")));
  s.congestion = CongestionStats{1'500'000, 1'380'000, 120'000, "remb", 960, 540, 30, 2, 4, 1'600'000};
  line = snapshot_to_json(s);
  o = parse(line, p);
  JsonObject* c = json_object_get_object_member(o, "congestion");
  REQUIRE(c);
  CHECK(json_object_get_int_member(c, "target_bps") == 1'500'000);
  CHECK(json_object_get_int_member(c, "video_bps") == 1'380'000);
  CHECK(json_object_get_int_member(c, "audio_bps") == 120'000);
  CHECK(std::string(json_object_get_string_member(c, "limited_by")) == "remb");
  CHECK(json_object_get_int_member(c, "width") == 960);
  CHECK(json_object_get_int_member(c, "height") == 540);
  CHECK(json_object_get_int_member(c, "fps") == 30);
  CHECK(json_object_get_int_member(c, "ladder_steps") == 2);
  CHECK(json_object_get_int_member(c, "fec_percentage") == 4);
  CHECK(json_object_get_int_member(c, "remb_bps") == 1'600'000);
  g_object_unref(p);
}

TEST_CASE("report: the whole report and JUnit", "[stats][report]") {
  ReportInput r;
  r.version = "0.1.0";
  r.options["video"] = std::string("720p");
  r.options["latency_probe"] = true;
  r.options["expect"] = std::vector<std::string>{"video.in.fps>=25"};
  r.latency_probe = true;
  r.data.timeline = {{"dtls_connected", 500}};
  r.data.latency = {{5, 70}, {5, 80}};
  r.data.freezes = {{4'000'000, 2100}};
  Snapshot s;
  s.t = 5;
  s.interval = 1;
  r.data.series = {s};
  r.summary = summarize(r.data);
  ExpectationResult ok{*parse_expectation("video.in.fps>=25"), 30.0, true, "fine"};
  ExpectationResult bad{*parse_expectation("video.in.freezes==0"), 1.0, false, "video.in.freezes = 1 <&>"};
  r.expectations = {ok, bad};
  r.exit_code = 1;
  r.exit_name = "expectation-failed";
  std::string text = report_to_json(r);
  JsonParser* p = json_parser_new();
  JsonObject* o = parse(text, p);
  CHECK(std::string(json_object_get_string_member(o, "schema")) == kReportSchema);
  for (const char* k : {"tool", "options", "timeline", "setup", "warmup", "intervals", "summary", "freezes",
                        "latency", "expectations", "snapshots", "exit"})
    CHECK(json_object_has_member(o, k));
  JsonObject* lat = json_object_get_object_member(o, "latency");
  CHECK(json_object_get_double_member(lat, "median_ms") == Approx(75));
  CHECK(json_object_get_int_member(json_object_get_object_member(o, "freezes"), "count") == 1);
  JsonArray* ex = json_object_get_array_member(o, "expectations");
  CHECK(json_array_get_length(ex) == 2);
  CHECK_FALSE(json_object_get_boolean_member(json_array_get_object_element(ex, 1), "passed"));
  CHECK(json_object_get_int_member(json_object_get_object_member(o, "exit"), "code") == 1);
  g_object_unref(p);

  std::string x = junit_xml(r.expectations, 7.5, "done");
  CHECK_THAT(x, Catch::Contains("tests=\"2\" failures=\"1\""));
  CHECK_THAT(x, Catch::Contains("name=\"video.in.fps&gt;=25\""));
  CHECK_THAT(x, Catch::Contains("<failure message=\"video.in.freezes = 1 &lt;&amp;&gt;\""));
}
