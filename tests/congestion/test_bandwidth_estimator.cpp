// BandwidthEstimator on synthetic traces (link_model.h): settling under a
// cap, cutting on congestion, recovering when the cap lifts, holding under
// random loss, REMB, bounds. Each scenario prints what it measured.

#include "congestion/bandwidth_estimator.h"
#include "link_model.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>

using namespace callagent::congestion;
using namespace callagent::congestion::test;

namespace {

double mean_target(const std::vector<LinkSample>& w) {
  double s = 0;
  for (const auto& x : w) s += static_cast<double>(x.target_bps);
  return w.empty() ? 0 : s / static_cast<double>(w.size());
}
int64_t max_target(const std::vector<LinkSample>& w) {
  int64_t m = 0;
  for (const auto& x : w) m = std::max(m, x.target_bps);
  return m;
}
int64_t min_target(const std::vector<LinkSample>& w) {
  int64_t m = INT64_MAX;
  for (const auto& x : w) m = std::min(m, x.target_bps);
  return m;
}
double max_queue(const std::vector<LinkSample>& w) {
  double m = 0;
  for (const auto& x : w) m = std::max(m, x.queue_ms);
  return m;
}
double share_at_or_below(const std::vector<LinkSample>& w, double bps) {
  size_t n = 0;
  for (const auto& x : w) n += static_cast<double>(x.target_bps) <= bps;
  return w.empty() ? 0 : static_cast<double>(n) / static_cast<double>(w.size());
}
// First time >= from_s at which pred holds (seconds), or -1.
template <typename P>
double first_time(const std::vector<LinkSample>& s, double from_s, P pred) {
  for (const auto& x : s)
    if (x.t_us >= from_s * 1e6 && pred(x)) return static_cast<double>(x.t_us) / 1e6;
  return -1;
}

std::function<double(int64_t)> step_capacity(double before, double after, double at_s) {
  return [=](int64_t t) { return t < at_s * 1e6 ? before : after; };
}

}  // namespace

TEST_CASE("bwe: starts at 300 kbit/s and stays within its bounds", "[congestion][bwe]") {
  BandwidthEstimator b;
  CHECK(b.target_bps() == 300'000);
  BandwidthEstimator low(BandwidthConfig{.start_bps = 50'000, .min_bps = 100'000, .max_bps = 1'000'000});
  CHECK(low.target_bps() == 100'000);
  // Heavy loss for a minute: never below min.
  for (int i = 0; i < 60; ++i) low.on_receiver_report(i * 1'000'000, 0.5, 50.0);
  CHECK(low.target_bps() == 100'000);
  // Clean reports for a minute: never above max.
  for (int i = 60; i < 180; ++i) {
    low.on_receiver_report(i * 1'000'000, 0.0, 50.0);
    for (int k = 1; k < 10; ++k) low.on_tick(i * 1'000'000 + k * 100'000);
  }
  CHECK(low.target_bps() == 1'000'000);
  low.set_bounds(100'000, 600'000);
  CHECK(low.target_bps() == 600'000);
}

TEST_CASE("bwe: loss-based rules (+8 %/s, hold 2-10 %, cut above 10 % once per 300 ms + RTT)", "[congestion][bwe]") {
  BandwidthEstimator b(BandwidthConfig{.start_bps = 1'000'000, .min_bps = 100'000, .max_bps = 10'000'000});
  // Clean reports every second for 10 s, ticks every 100 ms: ~1.08^10.
  int64_t t = 0;
  for (int i = 0; i < 10; ++i) {
    b.on_receiver_report(t, 0.0, 40.0);
    for (int k = 0; k < 10; ++k) b.on_tick(t += 100'000);
  }
  const double grown = static_cast<double>(b.target_bps()) / 1e6;
  std::printf("bwe loss rules: 10 s clean from 1 Mbit/s -> %.3f Mbit/s (x1.08^10 = %.3f)\n", grown,
              std::pow(1.08, 10));
  CHECK(grown > std::pow(1.08, 9));
  CHECK(grown < std::pow(1.08, 11) * 1.01);
  // 5 % for 20 s: no change at all.
  const int64_t held = b.target_bps();
  for (int i = 0; i < 20; ++i) {
    b.on_receiver_report(t, 0.05, 40.0);
    for (int k = 0; k < 10; ++k) b.on_tick(t += 100'000);
  }
  CHECK(b.target_bps() == held);
  // 20 % loss: x0.9 per report.
  b.on_receiver_report(t, 0.20, 40.0);
  CHECK(b.target_bps() == Approx(held * 0.9).margin(1));
  // A second report 100 ms later: too soon (300 ms + 40 ms RTT).
  b.on_receiver_report(t += 100'000, 0.20, 40.0);
  CHECK(b.target_bps() == Approx(held * 0.9).margin(1));
  // 400 ms later: cut again.
  b.on_receiver_report(t += 300'000, 0.20, 40.0);
  CHECK(b.target_bps() == Approx(held * 0.81).margin(2));
  // Ticks do not repeat the cut of one report.
  for (int k = 0; k < 10; ++k) b.on_tick(t += 100'000);
  CHECK(b.target_bps() == Approx(held * 0.81).margin(2));
  // Reports stop: after 6 s the old clean report does not justify growth.
  b.on_receiver_report(t += 100'000, 0.0, 40.0);
  for (int k = 0; k < 100; ++k) b.on_tick(t += 100'000);
  const int64_t stale = b.target_bps();
  for (int k = 0; k < 100; ++k) b.on_tick(t += 100'000);
  CHECK(b.target_bps() == stale);
}

TEST_CASE("bwe: with TWCC the loss comes from the feedback, not from receiver reports", "[congestion][bwe]") {
  BandwidthEstimator b(
      BandwidthConfig{.start_bps = 1'000'000, .min_bps = 100'000, .max_bps = 10'000'000, .probing = false});
  int64_t t = 0, sent = 0;
  // One feedback per 100 ms about 30 packets (constant queue delay), the
  // given share of them lost, and a receiver report per second.
  auto run = [&](double seconds, double twcc_loss, double rr_loss) {
    for (int i = 0; i < static_cast<int>(seconds * 10); ++i) {
      std::vector<PacketResult> fb;
      for (int k = 0; k < 30; ++k) {
        PacketResult p;
        p.send_us = sent;
        p.size_bytes = 400;
        if (k >= static_cast<int>(twcc_loss * 30 + 0.5)) p.arrival_us = sent + 20'000;
        sent += 100'000 / 30;
        fb.push_back(p);
      }
      t += 100'000;
      b.on_transport_feedback(t, fb);
      b.on_tick(t);
      if (i % 10 == 9) b.on_receiver_report(t, rr_loss, 40.0);
    }
  };
  // 30 % lost on the wire, the receiver reports say 0 % (repaired by
  // retransmissions): the estimate is cut.
  run(2.0, 0.3, 0.0);
  const int64_t cut = b.target_bps();
  std::printf("bwe transport loss: 2 s of 30 %% TWCC loss, RR 0 %%: 1000 -> %lld kbit/s\n",
              static_cast<long long>(cut / 1000));
  CHECK(cut < 700'000);
  // Clean on the wire, reports of 30 %: not a cut.
  run(2.0, 0.0, 0.3);
  CHECK(b.target_bps() >= cut);
  // TWCC stops: after 6 s the receiver reports' loss drives the rules again.
  const int64_t before = b.target_bps();
  for (int i = 0; i < 12; ++i) {
    t += 1'000'000;
    b.on_receiver_report(t, 0.3, 40.0);
  }
  CHECK(b.target_bps() < before);
}

TEST_CASE("bwe trace: TWCC, 1 Mbit/s bottleneck: settles under the cap within 5 s", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.capacity_bps = [](int64_t) { return 1e6; };
  LinkSim sim(c, b);
  sim.run_until(60'000'000);
  const auto w = sim.window(5, 60);
  std::printf("bwe twcc cap 1M: 5-60 s mean %.0f k, min %lld k, max %lld k, <=cap %.0f %%, max queue %.0f ms, "
              "queue drops %lld / %lld, probes %d ok %d\n",
              mean_target(w) / 1e3, static_cast<long long>(min_target(w) / 1000),
              static_cast<long long>(max_target(w) / 1000), 100 * share_at_or_below(w, 1e6), max_queue(w),
              static_cast<long long>(sim.dropped_queue), static_cast<long long>(sim.sent_packets),
              b.status().probes_started, b.status().probes_succeeded);
  // AIMD probes the capacity additively: brief excursions of a few % above
  // it are how it finds it; on average it stays under.
  CHECK(share_at_or_below(w, 1.05e6) >= 0.95);
  CHECK(mean_target(w) >= 0.6e6);
  CHECK(mean_target(w) <= 1e6);
  CHECK(max_queue(sim.window(10, 60)) < 250);
}

TEST_CASE("bwe trace: a shared 2 Mbit/s cap with a short queue and a competing flow: little loss",
          "[congestion][bwe][trace]") {
  // The partner's direction shares the bottleneck (a browser that settled
  // at 0.7 Mbit/s); the queue is 100 ms of drop-tail. When the queue is
  // full its delay stops growing, so only the loss on the wire tells that
  // our share is too large.
  BandwidthEstimator b;
  LinkConfig c;
  c.one_way_us = 5'000;
  c.queue_limit_us = 100'000;
  c.capacity_bps = [](int64_t) { return 2e6; };
  c.cross_bps = [](int64_t) { return 0.7e6; };
  LinkSim sim(c, b);
  sim.run_until(10'000'000);
  const int64_t sent0 = sim.sent_packets, drop0 = sim.dropped_queue, cross0 = sim.cross_packets,
                cdrop0 = sim.cross_dropped;
  sim.run_until(60'000'000);
  const auto w = sim.window(10, 60);
  const double loss = 100.0 * static_cast<double>(sim.dropped_queue - drop0) / static_cast<double>(sim.sent_packets - sent0);
  const double cross_loss =
      100.0 * static_cast<double>(sim.cross_dropped - cdrop0) / static_cast<double>(sim.cross_packets - cross0);
  std::printf("bwe twcc shared 2M cap, 100 ms queue, 0.7M competing: 10-60 s mean %.0f k, min %lld k, max %lld k, "
              "our loss %.2f %%, competing flow's loss %.2f %%, max queue %.0f ms\n",
              mean_target(w) / 1e3, static_cast<long long>(min_target(w) / 1000),
              static_cast<long long>(max_target(w) / 1000), loss, cross_loss, max_queue(w));
  CHECK(loss <= 1.0);
  CHECK(cross_loss <= 1.0);
  CHECK(mean_target(w) >= 0.8e6);
  CHECK(mean_target(w) <= 1.3e6);
}

TEST_CASE("bwe trace: TWCC keeps a deep queue (2 s buffer) short", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.queue_limit_us = 2'000'000;
  c.capacity_bps = step_capacity(3e6, 1e6, 20);
  LinkSim sim(c, b);
  sim.run_until(60'000'000);
  // The drop fills the buffer until the detector sees it (~0.5 s at 2.5x
  // the capacity); the cut to 0.85 x the arrival rate then drains it in a
  // few seconds, after which AIMD keeps it short.
  const auto w = sim.window(30, 60);
  std::printf("bwe twcc 2 s buffer, 3M->1M at 20 s: 20-25 s max queue %.0f ms, 30-60 s max queue %.0f ms, "
              "mean %.0f k, queue drops %lld\n",
              max_queue(sim.window(20, 25)), max_queue(w), mean_target(w) / 1e3,
              static_cast<long long>(sim.dropped_queue));
  CHECK(max_queue(sim.window(20, 25)) < 1000);
  CHECK(max_queue(w) < 250);
  CHECK(mean_target(w) >= 0.6e6);
}

TEST_CASE("bwe trace: RR only, 1 Mbit/s bottleneck with a short queue: settles by loss", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.twcc = false;
  c.queue_limit_us = 100'000;
  c.capacity_bps = [](int64_t) { return 1e6; };
  LinkSim sim(c, b);
  sim.run_until(60'000'000);
  const auto w = sim.window(20, 60);
  std::printf("bwe rr-only cap 1M: 20-60 s mean %.0f k, min %lld k, max %lld k, loss %.1f %%\n",
              mean_target(w) / 1e3, static_cast<long long>(min_target(w) / 1000),
              static_cast<long long>(max_target(w) / 1000),
              100.0 * static_cast<double>(sim.dropped_queue) / static_cast<double>(sim.sent_packets));
  CHECK(mean_target(w) >= 0.5e6);
  CHECK(mean_target(w) <= 1.25e6);
}

TEST_CASE("bwe trace: capacity drops from 3 to 0.5 Mbit/s: cut within about a second", "[congestion][bwe][trace]") {
  for (bool twcc : {true, false}) {
    BandwidthEstimator b;
    LinkConfig c;
    c.twcc = twcc;
    c.queue_limit_us = twcc ? 300'000 : 100'000;
    c.capacity_bps = step_capacity(3e6, 0.5e6, 40);
    LinkSim sim(c, b);
    sim.run_until(70'000'000);
    const double before = mean_target(sim.window(35, 40));
    const double first_cut =
        first_time(sim.samples, 40, [&](const LinkSample& s) { return static_cast<double>(s.target_bps) < 0.95 * before; });
    const double cut = first_time(sim.samples, 40, [](const LinkSample& s) { return s.target_bps <= 500'000; });
    const auto after = sim.window(45, 70);
    std::printf("bwe %s drop 3M->0.5M at 40 s: before %.0f k, first cut after %.1f s, <=0.5M after %.1f s, "
                "45-70 s mean %.0f k, max queue %.0f ms\n",
                twcc ? "twcc" : "rr-only", before / 1e3, first_cut - 40, cut - 40, mean_target(after) / 1e3,
                max_queue(after));
    CHECK(before >= 2.4e6);
    REQUIRE(cut > 0);
    CHECK(first_cut - 40 <= 1.2);
    if (twcc) {
      CHECK(cut - 40 <= 1.0);
      CHECK(share_at_or_below(after, 0.525e6) >= 0.95);
      CHECK(mean_target(after) <= 0.5e6);
    } else {
      // Loss alone cuts by x(1 - loss/2) per report (one a second here):
      // a few reports to get down; it then sits where queue loss is 2-10 %.
      CHECK(cut - 40 <= 5.0);
      CHECK(mean_target(after) <= 0.575e6);
    }
    CHECK(mean_target(after) >= 0.25e6);
  }
}

TEST_CASE("bwe trace: the cap lifts: back to the max within 20 s", "[congestion][bwe][trace]") {
  for (bool twcc : {true, false}) {
    BandwidthEstimator b;
    LinkConfig c;
    c.twcc = twcc;
    c.queue_limit_us = twcc ? 300'000 : 100'000;
    c.capacity_bps = step_capacity(0.5e6, 20e6, 30);
    LinkSim sim(c, b);
    sim.run_until(70'000'000);
    const double capped = mean_target(sim.window(20, 30));
    const double back = first_time(sim.samples, 30, [](const LinkSample& s) { return s.target_bps >= 2'450'000; });
    std::printf("bwe %s cap 0.5M lifted at 30 s: capped mean %.0f k, max (2.5M) reached after %.1f s, probes %d ok %d\n",
                twcc ? "twcc" : "rr-only", capped / 1e3, back < 0 ? -1.0 : back - 30, b.status().probes_started,
                b.status().probes_succeeded);
    CHECK(capped <= (twcc ? 0.5e6 : 0.575e6));
    REQUIRE(back > 0);
    // Without TWCC nothing can probe: +8 %/s from ~0.5 Mbit/s takes ~21 s.
    CHECK(back - 30 <= (twcc ? 10 : 23));
    CHECK(share_at_or_below(sim.window(back + 1, 70), 2.4e6) <= 0.05);
  }
}

TEST_CASE("bwe trace: probes after the first go to 1.5 x the target, none while deferred",
          "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.capacity_bps = step_capacity(0.5e6, 10e6, 30);
  LinkSim sim(c, b);
  int started = 0;
  int64_t before = b.target_bps();
  double max_ratio = 0;
  int after_lift = 0, while_deferred = 0;
  for (int64_t t = 100'000; t <= 60'000'000; t += 100'000) {
    if (t == 30'000'000) b.defer_probes(t + 3'000'000);  // as after a ladder step
    sim.run_until(t);
    const auto st = b.status();
    if (st.probes_started != started) {
      if (started > 0) max_ratio = std::max(max_ratio, static_cast<double>(st.target_bps) / static_cast<double>(before));
      if (t > 33'000'000)
        ++after_lift;
      else if (t > 30'000'000)
        ++while_deferred;
      started = st.probes_started;
    }
    before = st.target_bps;
  }
  std::printf("bwe probes: %d, the largest step of a later probe x%.2f, %d after the deferral, %d during it\n", started,
              max_ratio, after_lift, while_deferred);
  CHECK(started >= 3);
  CHECK(max_ratio > 1.1);
  CHECK(max_ratio <= 1.5 * 1.02);
  CHECK(while_deferred == 0);
  CHECK(after_lift >= 1);
  CHECK(b.target_bps() == 2'500'000);
}

TEST_CASE("bwe trace: 5 % random loss does not collapse the rate", "[congestion][bwe][trace]") {
  for (bool twcc : {true, false}) {
    BandwidthEstimator b;
    LinkConfig c;
    c.twcc = twcc;
    c.capacity_bps = [](int64_t) { return 20e6; };
    c.random_loss = [](int64_t t) { return t < 30'000'000 ? 0.0 : 0.05; };
    LinkSim sim(c, b);
    sim.run_until(90'000'000);
    const auto w = sim.window(31, 90);
    std::printf("bwe %s 5 %% random loss from 30 s: at 30 s %.0f k, 31-90 s min %lld k mean %.0f k\n",
                twcc ? "twcc" : "rr-only", mean_target(sim.window(29, 30)) / 1e3,
                static_cast<long long>(min_target(w) / 1000), mean_target(w) / 1e3);
    CHECK(mean_target(sim.window(29, 30)) >= 2.4e6);
    CHECK(min_target(w) >= 0.9 * 2.5e6);
  }
  // From the start (TWCC): the probes still find the rate.
  BandwidthEstimator b;
  LinkConfig c;
  c.random_loss = [](int64_t) { return 0.05; };
  LinkSim sim(c, b);
  sim.run_until(30'000'000);
  std::printf("bwe twcc 5 %% random loss from the start: 20-30 s mean %.0f k\n", mean_target(sim.window(20, 30)) / 1e3);
  CHECK(mean_target(sim.window(20, 30)) >= 2.0e6);
}

TEST_CASE("bwe trace: an encoder below its target (still picture), then motion", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.capacity_bps = [](int64_t) { return 20e6; };
  c.encoder_fill = 0.4;
  LinkSim sim(c, b);
  sim.run_until(30'000'000);
  const int64_t still = b.target_bps();
  const auto acked = b.status().acked_bps.value_or(0);
  sim.set_encoder_fill(1.0);
  sim.run_until(60'000'000);
  const double back = first_time(sim.samples, 30, [](const LinkSample& s) { return s.target_bps >= 2'450'000; });
  std::printf("bwe twcc encoder at 40 %% of its target until 30 s: target %lld k (acked %lld k), max after motion %.1f s\n",
              static_cast<long long>(still / 1000), static_cast<long long>(acked / 1000), back - 30);
  // No runaway to the max on a path nobody used, but no collapse either
  // (increases stop at 1.5 x acknowledged + 10k; a lower acknowledged rate
  // alone does not cut).
  CHECK(still <= 2.5 * static_cast<double>(acked));
  CHECK(still <= 1'000'000);
  CHECK(still >= 250'000);
  REQUIRE(back > 0);
  CHECK(back - 30 <= 10);
}

TEST_CASE("bwe trace: 20 % random loss brings the rate down", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.twcc = false;
  c.capacity_bps = [](int64_t) { return 20e6; };
  c.random_loss = [](int64_t t) { return t < 30'000'000 ? 0.0 : 0.20; };
  LinkSim sim(c, b);
  sim.run_until(50'000'000);
  std::printf("bwe rr-only 20 %% loss from 30 s: at 30 s %.0f k, at 50 s %lld k\n", mean_target(sim.window(29, 30)) / 1e3,
              static_cast<long long>(b.target_bps() / 1000));
  // x0.9 per report, one a second: 2.4 Mbit/s x 0.9^19 = 0.33 Mbit/s.
  CHECK(b.target_bps() <= 500'000);
  CHECK(b.target_bps() >= 200'000);
}

TEST_CASE("bwe trace: REMB caps the estimate, recovery when it lifts", "[congestion][bwe][trace]") {
  BandwidthEstimator b;
  LinkConfig c;
  c.capacity_bps = [](int64_t) { return 20e6; };
  c.remb = [](int64_t t) -> std::optional<int64_t> { return t < 30'000'000 ? 700'000 : 5'000'000; };
  LinkSim sim(c, b);
  sim.run_until(60'000'000);
  const auto capped = sim.window(2, 30);
  const double back = first_time(sim.samples, 30, [](const LinkSample& s) { return s.target_bps >= 2'450'000; });
  std::printf("bwe twcc REMB 700k until 30 s: 2-30 s max %lld k, max (2.5M) after %.1f s\n",
              static_cast<long long>(max_target(capped) / 1000), back - 30);
  CHECK(max_target(capped) <= 700'000);
  REQUIRE(back > 0);
  CHECK(back - 30 <= 20);
}

TEST_CASE("bwe trace: a recorded trace replays to the same targets", "[congestion][bwe][trace]") {
  BandwidthEstimator live;
  LinkConfig c;
  c.capacity_bps = step_capacity(1.5e6, 0.6e6, 8);
  c.random_loss = [](int64_t) { return 0.01; };
  LinkSim sim(c, live);
  sim.record = true;
  sim.run_until(15'000'000);
  std::string text = "# synthetic: 1.5 -> 0.6 Mbit/s at 8 s, 1 % loss\n";
  for (const auto& e : sim.recorded) text += format_trace_event(e) + "\n";
  auto events = parse_trace(text);
  REQUIRE(events.ok());
  REQUIRE(events->size() == sim.recorded.size());
  BandwidthEstimator replayed;
  const auto points = replay_trace(*events, replayed);
  CHECK(replayed.target_bps() == live.target_bps());
  // The samples of the simulation are the targets after each tick.
  size_t k = 0;
  for (size_t i = 0; i < events->size() && k < sim.samples.size(); ++i)
    if ((*events)[i].kind == TraceEvent::Kind::Tick) {
      CHECK(points[i].target_bps == sim.samples[k].target_bps);
      ++k;
    }
  CHECK(k == sim.samples.size());
}

TEST_CASE("bwe: no first probe once the start was cut", "[congestion][bwe]") {
  // A clean first feedback: the first probe, x3 (up to the maximum).
  auto feedback = [](BandwidthEstimator& b, int64_t now_us) {
    std::vector<PacketResult> packets;
    for (int i = 0; i < 50; ++i) {
      const int64_t sent = now_us - 100'000 + i * 2'000;
      packets.push_back({sent, sent + 10'000, 1200});
    }
    b.on_transport_feedback(now_us, packets);
  };
  BandwidthConfig low;
  low.start_bps = 500'000;
  BandwidthEstimator clean(low);
  feedback(clean, 200'000);
  CHECK(clean.status().probes_started == 1);
  CHECK(clean.target_bps() == 1'500'000);
  // A receiver report with 20 % loss before any feedback: the start cuts,
  // and the first feedback (after a clean report) starts no probe back up
  // to where it was.
  BandwidthConfig high;  // as the agent starts: at the preset's rate
  high.start_bps = 2'000'000;
  BandwidthEstimator cut(high);
  cut.on_receiver_report(100'000, 0.2, 5.0);
  const int64_t after_cut = cut.target_bps();
  CHECK(after_cut < 2'000'000);
  cut.on_receiver_report(150'000, 0.0, 5.0);  // and the next one is clean
  feedback(cut, 200'000);
  CHECK(cut.status().probes_started == 0);
  CHECK(cut.target_bps() < 2'000'000);  // a probe would have gone to the maximum
}

TEST_CASE("bwe: a probe that builds a queue is undone before its sample ends", "[congestion][bwe]") {
  // Packets of 1200 bytes every `gap` us, from `from` to `to`, each arriving
  // `delay(t)` after it left; feedback every 100 ms.
  auto run = [](BandwidthEstimator& b, int64_t from, int64_t to, int64_t gap, auto delay) {
    std::vector<PacketResult> packets;
    for (int64_t t = from; t < to; t += gap) {
      packets.push_back({t, t + delay(t), 1200});
      if (t + gap >= to || packets.size() == 20) {
        b.on_transport_feedback(t + 50'000, packets);
        packets.clear();
      }
    }
  };
  for (bool queue : {false, true}) {
    BandwidthConfig c;
    c.start_bps = 500'000;
    BandwidthEstimator b(c);
    run(b, 0, 100'000, 19'000, [](int64_t) { return 20'000; });  // ~0.5 Mbit/s, a clean first feedback
    REQUIRE(b.status().probes_started == 1);
    const int64_t probe = b.target_bps();
    // The probe's packets (1.5 Mbit/s) arrive as fast as they leave, but
    // each waits longer than the last (a queue filling slowly): +2 ms per
    // packet from 100 ms into the probe.
    run(b, 100'000, 400'000, 6'400, [queue](int64_t t) {
      return 20'000 + (queue && t > 200'000 ? (t - 200'000) / 6'400 * 2'000 : 0);
    });
    std::printf("bwe probe to %lld k, %s: target after 0.3 s %lld k\n", static_cast<long long>(probe / 1000),
                queue ? "a queue builds" : "no queue", static_cast<long long>(b.target_bps() / 1000));
    if (queue) {
      CHECK_FALSE(b.probing());
      CHECK(b.target_bps() <= 550'000);
    } else {
      CHECK(b.probing());
      CHECK(b.target_bps() == probe);
    }
  }
}
