// Checked-in traces (traces/*.csv) replayed through the estimator, and the
// parser's error messages.
#include "congestion/trace_replay.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace callagent::congestion;

namespace {
std::string read(const std::string& name) {
  std::ifstream f(std::string(CONGESTION_TRACE_DIR) + "/" + name);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("trace file: rr-only loss episode", "[congestion][trace]") {
  auto ev = parse_trace(read("rr_loss_episode.csv"));
  REQUIRE(ev.ok());
  BandwidthEstimator b;
  const auto pts = replay_trace(*ev, b);
  auto at = [&](double s) {
    int64_t v = 0;
    for (const auto& p : pts)
      if (p.t_us <= s * 1e6) v = p.target_bps;
    return v;
  };
  std::printf("trace rr_loss_episode: 10 s %lld k, 15.5 s (after 5 reports of 25 %% loss) %lld k, 20 s %lld k, 40 s %lld k\n",
              static_cast<long long>(at(10) / 1000), static_cast<long long>(at(15.5) / 1000),
              static_cast<long long>(at(20) / 1000),
              static_cast<long long>(at(40) / 1000));
  CHECK(at(10) > 550'000);  // 10 s of clean reports: 300k x 1.08^~9
  // Five reports of 25 % loss: x0.875 each.
  CHECK(at(15.5) < at(10) * 0.6);
  CHECK(at(15.5) > at(10) * 0.45);
  CHECK(at(40) > at(20));
}

TEST_CASE("trace parser: errors name the line", "[congestion][trace]") {
  auto bad = parse_trace("# c\n1,rr,0.1,20\n2,rr,1.5,20\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("line 3") != std::string::npos);
  CHECK_FALSE(parse_trace("5,tick\n4,tick\n").ok());
  CHECK_FALSE(parse_trace("1,twcc,1:2\n").ok());
  CHECK_FALSE(parse_trace("1,bogus\n").ok());
  CHECK_FALSE(parse_trace("1,twcc,1:2:99999999999\n").ok());
  CHECK_FALSE(parse_trace("1e300,tick\n").ok());
  CHECK_FALSE(parse_trace("1,remb,nan\n").ok());
  auto ok = parse_trace("0.5,twcc,0.1:20.3:1200 0.2:x:1200\n1,rr,0.02,\n2,remb,500000\n3,tick\n");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 4);
  CHECK((*ok)[0].packets.size() == 2);
  CHECK_FALSE((*ok)[0].packets[1].arrival_us);
  CHECK((*ok)[0].packets[0].arrival_us == 20'300);
  CHECK_FALSE((*ok)[1].rtt_ms);
  CHECK((*ok)[2].bps == 500'000);
  CHECK(format_trace_event((*ok)[0]) == "0.500,twcc,0.100:20.300:1200 0.200:x:1200");
}
