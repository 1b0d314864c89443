#include "stats/expectation.h"

#include <catch2/catch.hpp>

using namespace callagent;
using namespace callagent::stats;

namespace {
Expectation parse_ok(const char* text) {
  auto e = parse_expectation(text);
  INFO(text << ": " << (e ? "" : e.error().message));
  REQUIRE(e.ok());
  return *e;
}
std::string parse_err(const char* text) {
  auto e = parse_expectation(text);
  INFO(text);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == ExitCode::Usage);
  return e.error().message;
}
}  // namespace

TEST_CASE("expectations: the examples of the brief parse", "[stats][expect]") {
  auto e = parse_ok("video.in.fps>=25");
  CHECK(e.metric == "video.in.fps");
  CHECK(e.aggregate == Aggregate::Avg);
  CHECK(e.op == CompareOp::Ge);
  CHECK(e.threshold == 25);

  e = parse_ok("video.in.freezes==0");
  CHECK(e.metric == "video.in.freezes");
  CHECK(e.aggregate == Aggregate::AfterWarmup);
  CHECK(e.op == CompareOp::Eq);

  e = parse_ok("audio.in.bitrate>=24k");
  CHECK(e.threshold == 24000);
  CHECK(e.unit == Unit::BitRate);

  e = parse_ok("setup.first_video<2s");
  CHECK(e.op == CompareOp::Lt);
  CHECK(e.threshold == 2000);
  CHECK(e.aggregate == Aggregate::Value);

  e = parse_ok("latency.video.p95<150ms");
  CHECK(e.threshold == 150);

  e = parse_ok("video.in.height>=720");
  CHECK(e.aggregate == Aggregate::Min);
  CHECK(e.threshold == 720);
}

TEST_CASE("expectations: spaces, aggregates, units, signs", "[stats][expect]") {
  auto e = parse_ok("  video.in.fps.max >= 29.5 fps ");
  CHECK(e.aggregate == Aggregate::Max);
  CHECK(e.threshold == Approx(29.5));
  e = parse_ok("video.out.bitrate.min>1.5Mbps");
  CHECK(e.op == CompareOp::Gt);
  CHECK(e.threshold == Approx(1.5e6));
  e = parse_ok("audio.out.bitrate<=128kbps");
  CHECK(e.threshold == 128000);
  e = parse_ok("video.in.packets_lost.total!=3");
  CHECK(e.aggregate == Aggregate::Total);
  CHECK(e.op == CompareOp::Ne);
  e = parse_ok("audio.in.level>=-40dB");
  CHECK(e.threshold == -40);
  e = parse_ok("video.in.loss<1%");
  CHECK(e.threshold == 1);
  e = parse_ok("rtt.last<1.5s");
  CHECK(e.threshold == 1500);
  e = parse_ok("video.in.frames_decoded>=2k");
  CHECK(e.threshold == 2000);
  e = parse_ok("video.in.width<=1280px");
  CHECK(e.threshold == 1280);
}

TEST_CASE("expectations: bad expressions name the bad token", "[stats][expect]") {
  auto m = parse_err("video.in.fsp>=25");
  CHECK_THAT(m, Catch::Contains("unknown metric 'video.in.fsp'"));
  CHECK_THAT(m, Catch::Contains("known metrics: "));
  CHECK_THAT(m, Catch::Contains("video.in.fps"));
  CHECK_THAT(m, Catch::Contains("latency.video.p95"));

  CHECK_THAT(parse_err("video.in.fps=>25"), Catch::Contains("bad operator at '=>25'"));
  CHECK_THAT(parse_err("video.in.fps=25"), Catch::Contains("bad operator"));
  CHECK_THAT(parse_err("video.in.fps"), Catch::Contains("missing comparison operator"));
  CHECK_THAT(parse_err("video.in.fps>="), Catch::Contains("missing value"));
  CHECK_THAT(parse_err("video.in.fps>=abc"), Catch::Contains("bad number 'abc'"));
  CHECK_THAT(parse_err("video.in.fps>=2..5"), Catch::Contains("bad number"));
  CHECK_THAT(parse_err("setup.first_video<2k"), Catch::Contains("unit 'k' does not fit setup.first_video"));
  CHECK_THAT(parse_err("video.in.fps>=25ms"), Catch::Contains("unit 'ms' does not fit"));
  CHECK_THAT(parse_err("video.in.fps>=25 furlongs"), Catch::Contains("unknown unit 'furlongs'"));
  CHECK_THAT(parse_err("video.in.fps.median>=3"), Catch::Contains("unknown aggregate 'median'"));
  CHECK_THAT(parse_err("setup.first_video.max<3s"), Catch::Contains("aggregate 'max' does not apply to setup.first_video"));
  CHECK_THAT(parse_err("video.in.freezes.avg==0"), Catch::Contains("aggregate 'avg' does not apply"));
  CHECK_THAT(parse_err("video.in.fps.total>1"), Catch::Contains("aggregate 'total' does not apply"));
  CHECK_THAT(parse_err(""), Catch::Contains("empty expression"));
  CHECK_THAT(parse_err(">=3"), Catch::Contains("expected a metric name, found '>=3'"));
  CHECK_THAT(parse_err("video.in.fps>=25"
                       "x"),
             Catch::Contains("unknown unit 'x'"));
}

TEST_CASE("expectations: every catalog metric parses with a bare threshold", "[stats][expect]") {
  for (const auto& m : metric_catalog()) {
    const bool word = m.kind == MetricKind::Text;
    auto e = parse_expectation(m.name + (word ? "==" + (m.values.empty() ? std::string("x") : m.values[0]) : ">=0"));
    INFO(m.name);
    CHECK(e.ok());
    CHECK((m.unit == Unit::Text) == word);
  }
}

TEST_CASE("expectations: the ICE path and other words", "[stats][expect]") {
  auto e = parse_ok("ice.local_type==relay");
  CHECK(e.metric == "ice.local_type");
  CHECK(e.unit == Unit::Text);
  CHECK(e.op == CompareOp::Eq);
  CHECK(e.word == "relay");
  e = parse_ok("  ice.remote_type != host ");
  CHECK(e.op == CompareOp::Ne);
  CHECK(e.word == "host");
  CHECK(parse_ok("ice.protocol==tcp").word == "tcp");
  CHECK(parse_ok("ice.relay_protocol==tls").word == "tls");
  CHECK(parse_ok("congestion.limited_by==loss").word == "loss");

  CHECK_THAT(parse_err("ice.local_type>=relay"),
             Catch::Contains("operator '>=' does not apply to ice.local_type: it is a word (use == or !=)"));
  CHECK_THAT(parse_err("ice.protocol<tcp"), Catch::Contains("operator '<' does not apply"));
  CHECK_THAT(parse_err("ice.local_type==relya"),
             Catch::Contains("unknown value 'relya' for ice.local_type (one of host, srflx, prflx, relay)"));
  CHECK_THAT(parse_err("ice.relay_protocol==dtls"), Catch::Contains("(one of udp, tcp, tls)"));
  CHECK_THAT(parse_err("ice.local_type=="), Catch::Contains("missing value"));
  CHECK_THAT(parse_err("ice.local_type==re lay"), Catch::Contains("bad value 're lay'"));
  CHECK_THAT(parse_err("ice.local_type.last==relay"),
             Catch::Contains("aggregate 'last' does not apply to ice.local_type"));
  CHECK_THAT(parse_err("ice.local_typ==relay"), Catch::Contains("unknown metric 'ice.local_typ'"));
  CHECK_THAT(parse_err("ice.local_typ==relay"), Catch::Contains("ice.relay_protocol"));
  // A word where a number belongs names the metric.
  CHECK_THAT(parse_err("video.in.fps==relay"),
             Catch::Contains("bad number 'relay': video.in.fps is a number"));
}

TEST_CASE("expectations: repair and adaptation names", "[stats][expect]") {
  auto e = parse_ok("video.in.lost_after_repair_pct<=0.5%");
  CHECK(e.aggregate == Aggregate::AfterWarmup);
  CHECK(e.unit == Unit::Percent);
  CHECK(e.threshold == Approx(0.5));
  CHECK(parse_ok("video.in.lost_after_repair_pct.total<1").aggregate == Aggregate::Total);
  CHECK_THAT(parse_err("video.in.lost_after_repair_pct.avg<1"), Catch::Contains("aggregate 'avg' does not apply"));
  CHECK(parse_ok("video.in.lost_after_repair<=20").aggregate == Aggregate::AfterWarmup);
  CHECK(parse_ok("video.in.nack_sent>0").unit == Unit::Count);
  CHECK(parse_ok("video.in.keyframes_requested<=5").unit == Unit::Count);
  CHECK(parse_ok("video.out.rtx_sent>0").unit == Unit::Count);
  e = parse_ok("video.out.target_bitrate.min>=900k");
  CHECK(e.unit == Unit::BitRate);
  CHECK(e.aggregate == Aggregate::Min);
  CHECK(e.threshold == 900000);
  CHECK(parse_ok("video.in.jitter_buffer<=400ms").aggregate == Aggregate::Max);
  CHECK(parse_ok("twcc.feedback_received>0").unit == Unit::Count);
  CHECK(parse_ok("audio.out.fec_percentage.last<=20%").unit == Unit::Percent);
  CHECK_THAT(parse_err("video.in.lost_after_repair<=0.5%"), Catch::Contains("unit '%' does not fit"));
}

TEST_CASE("expectations: words evaluate against the summary", "[stats][expect]") {
  Summary s;
  s["ice.local_type"].text = "relay";
  s["ice.local_type"].n = 3;
  s["ice.relay_protocol"].text = "tls";
  auto ev = [&](const char* t) { return evaluate(*parse_expectation(t), s); };
  auto r = ev("ice.local_type==relay");
  CHECK(r.passed);
  CHECK(r.measured_text == std::optional<std::string>("relay"));
  CHECK_FALSE(r.measured);
  CHECK(r.message == "ice.local_type = relay, expected == relay");
  r = ev("ice.local_type==host");
  CHECK_FALSE(r.passed);
  CHECK(r.message == "ice.local_type = relay, expected == host");
  CHECK(ev("ice.local_type!=host").passed);
  CHECK_FALSE(ev("ice.local_type!=relay").passed);
  CHECK(ev("ice.relay_protocol==tls").passed);
  r = ev("ice.protocol==udp");  // not in the summary: no data fails, also for !=
  CHECK_FALSE(r.passed);
  CHECK(r.message == "ice.protocol: no data, expected == udp");
  CHECK_FALSE(ev("ice.protocol!=udp").passed);
}

TEST_CASE("expectations: evaluation against a summary", "[stats][expect]") {
  Summary s;
  s["video.in.fps"].avg = 29.7;
  s["video.in.fps"].min = 24.0;
  s["video.in.freezes"].after_warmup = 1;
  s["video.in.freezes"].total = 2;
  s["audio.in.bitrate"].avg = 31000;
  s["setup.first_video"].value = 850;

  auto ev = [&](const char* t) { return evaluate(*parse_expectation(t), s); };
  auto r = ev("video.in.fps>=25");
  CHECK(r.passed);
  CHECK(r.measured == Approx(29.7));
  CHECK_THAT(r.message, Catch::Contains("video.in.fps (avg) = 29.7 fps, expected >= 25 fps"));

  r = ev("video.in.fps.min>=25");
  CHECK_FALSE(r.passed);
  CHECK_THAT(r.message, Catch::Contains("= 24 fps"));

  r = ev("video.in.freezes==0");
  CHECK_FALSE(r.passed);
  CHECK(*r.measured == 1);
  CHECK(ev("video.in.freezes.total==2").passed);
  CHECK(ev("video.in.freezes!=0").passed);

  r = ev("audio.in.bitrate>=24k");
  CHECK(r.passed);
  CHECK_THAT(r.message, Catch::Contains("31 kbit/s"));

  CHECK(ev("setup.first_video<2s").passed);
  CHECK_FALSE(ev("setup.first_video<0.5s").passed);
  CHECK(ev("setup.first_video<=850ms").passed);
  CHECK_FALSE(ev("setup.first_video<850ms").passed);
  CHECK(ev("setup.first_video==850").passed);
  CHECK_FALSE(ev("setup.first_video>850").passed);

  r = ev("latency.video.p95<150ms");
  CHECK_FALSE(r.passed);
  CHECK_FALSE(r.measured);
  CHECK_THAT(r.message, Catch::Contains("no data"));
}

TEST_CASE("expectations: value formatting", "[stats][expect]") {
  CHECK(format_value(24000, Unit::BitRate) == "24 kbit/s");
  CHECK(format_value(2.5e6, Unit::BitRate) == "2.5 Mbit/s");
  CHECK(format_value(1850, Unit::Millis) == "1850 ms");
  CHECK(format_value(0.5, Unit::Percent) == "0.5%");
  CHECK(format_value(3, Unit::Count) == "3");
}
