#include "stats/prometheus.h"

#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>

using namespace callagent::stats;

namespace {
// name{labels} -> value; every family has a TYPE line before its samples.
std::map<std::string, double> samples_of(const std::string& text) {
  std::map<std::string, double> out;
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$)");
  const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, type)) {
      REQUIRE(types.count(m[1]) == 0);
      types[m[1]] = m[2];
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    INFO(line);
    REQUIRE(std::regex_match(line, m, sample));
    REQUIRE(types.count(m[1]) == 1);
    if (types[m[1]] == "counter") CHECK(std::string(m[1]).size() > 6);
    out[std::string(m[1]) + std::string(m[2])] = std::stod(m[3]);
  }
  return out;
}

Snapshot snap(double t, int peer, uint64_t packets, uint64_t nack) {
  Snapshot s;
  s.t = t;
  s.interval = 1;
  s.state = "connected";
  s.peer = peer;
  s.video_in.active = true;
  s.video_in.packets = packets;
  s.video_in.nack = nack;
  s.video_in.bitrate = 1.5e6;
  s.video_in.fps = 29;
  s.video_in.loss_pct = 2.0;
  s.rtt_ms = 40;
  CongestionStats c;
  c.target_bps = 2000000;
  c.video_bps = 1900000;
  c.audio_bps = 64000;
  s.congestion = c;
  return s;
}
}  // namespace

TEST_CASE("call metrics: the latest gauges, counters summed over partner visits", "[stats][prometheus]") {
  CallData d;
  d.timeline.push_back({"dtls_connected", 100});
  d.series = {snap(1, 1, 100, 2), snap(2, 1, 200, 5)};
  CallFacts f;
  f.state = "connected";
  f.partner_present = true;
  f.recording_files = 1;
  f.recording_bytes = 4096;
  auto first = samples_of(call_metrics_text(f, &d.series.back(), d));
  CHECK(first["callagent_call_state{state=\"connected\"}"] == 1);
  CHECK(first["callagent_call_state{state=\"alone\"}"] == 0);
  CHECK(first["callagent_partner_present"] == 1);
  CHECK(first["callagent_bitrate_bits_per_second{direction=\"in\",kind=\"video\"}"] == 1.5e6);
  CHECK(first["callagent_packet_loss_ratio{direction=\"in\",kind=\"video\"}"] == Approx(0.02));
  CHECK(first["callagent_rtt_seconds"] == Approx(0.04));
  CHECK(first["callagent_packets_total{direction=\"in\",kind=\"video\"}"] == 200);
  CHECK(first["callagent_nack_total{direction=\"in\"}"] == 5);
  CHECK(first["callagent_congestion_target_bits_per_second"] == 2000000);
  CHECK(first["callagent_encoder_target_bits_per_second{kind=\"video\"}"] == 1900000);
  CHECK(first["callagent_recording_bytes"] == 4096);

  // A second partner: its counters start at 0, the run's do not go back.
  d.series.push_back(snap(3, 2, 30, 1));
  f.state = "connected";
  auto second = samples_of(call_metrics_text(f, &d.series.back(), d));
  CHECK(second["callagent_packets_total{direction=\"in\",kind=\"video\"}"] == 230);
  CHECK(second["callagent_nack_total{direction=\"in\"}"] == 6);
  for (const auto& [k, v] : first)
    if (k.find("_total") != std::string::npos) CHECK(second[k] >= v);
}

TEST_CASE("call metrics before any stats interval", "[stats][prometheus]") {
  auto s = samples_of(call_metrics_text(CallFacts{}, nullptr, CallData{}));
  CHECK(s["callagent_call_state{state=\"idle\"}"] == 1);
  CHECK(s.count("callagent_rtt_seconds") == 0);
  CHECK(s["callagent_packets_total{direction=\"in\",kind=\"video\"}"] == 0);
}
