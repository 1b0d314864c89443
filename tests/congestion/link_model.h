#pragma once
// A small path model that turns a BandwidthEstimator's target into the
// feedback a receiver would send, so estimator behaviour can be checked on
// synthetic traces without a network:
//
//   sender: a 30 fps video encoder that sends target - audio as one burst
//           of <= 1200-byte packets per frame (no pacer, like GStreamer),
//           plus 50 audio packets/s of 120 bytes;
//   path:   random loss p, then a bottleneck of capacity C(t) with a
//           drop-tail queue (packets that would wait longer than
//           queue_limit are dropped), then one-way delay D; optionally a
//           competing flow X(t) (1200-byte packets at a steady rate) in
//           the same queue, like the partner's direction on a cap both
//           directions share;
//   receiver: TWCC feedback every 100 ms, an RTCP receiver report every
//           rr_interval (fraction lost of the video packets since the last
//           report, RTT = 2 D + the queue delay), REMB every 200 ms if
//           given; each reaches the sender D later (the way back is clean).
//
// Everything is in one 1 ms loop; the estimator is ticked every 100 ms.
// Every event delivered to the estimator can be recorded as a TraceEvent.

#include "congestion/bandwidth_estimator.h"
#include "congestion/trace_replay.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

namespace callagent::congestion::test {

struct LinkConfig {
  std::function<double(int64_t t_us)> capacity_bps = [](int64_t) { return 10e6; };
  int64_t one_way_us = 25'000;
  int64_t queue_limit_us = 300'000;
  std::function<double(int64_t t_us)> random_loss = [](int64_t) { return 0.0; };
  bool twcc = true;
  int64_t twcc_interval_us = 100'000;
  bool rr = true;
  int64_t rr_interval_us = 1'000'000;
  std::function<std::optional<int64_t>(int64_t t_us)> remb;  // the receiver's REMB at t
  double encoder_fill = 1.0;  // the share of the video target the encoder really produces
  std::function<double(int64_t t_us)> cross_bps = [](int64_t) { return 0.0; };  // competing flow X(t)
  uint32_t seed = 1;
};

struct LinkSample {
  int64_t t_us = 0;
  int64_t target_bps = 0;
  double queue_ms = 0;
  double capacity_bps = 0;
};

class LinkSim {
 public:
  LinkSim(LinkConfig c, BandwidthEstimator& bwe) : c_(std::move(c)), bwe_(bwe), rng_(c_.seed) {}

  std::vector<LinkSample> samples;     // every 100 ms
  std::vector<TraceEvent> recorded;    // if record is set
  bool record = false;
  int64_t sent_packets = 0, dropped_queue = 0, dropped_random = 0;
  int64_t cross_packets = 0, cross_dropped = 0;

  void run_until(int64_t end_us) {
    for (; t_ < end_us; t_ += 1000) step();
  }
  int64_t now() const { return t_; }
  void set_encoder_fill(double f) { c_.encoder_fill = f; }

  // Queue delay now (ms).
  double queue_ms() const { return std::max<double>(0, static_cast<double>(link_free_us_ - t_) / 1000.0); }

  // Samples in [from, to) seconds.
  std::vector<LinkSample> window(double from_s, double to_s) const {
    std::vector<LinkSample> w;
    for (const auto& s : samples)
      if (s.t_us >= from_s * 1e6 && s.t_us < to_s * 1e6) w.push_back(s);
    return w;
  }

 private:
  struct Packet {
    int64_t send_us;
    std::optional<int64_t> arrival_us;
    int size;
    bool video;
  };

  void send(int size, bool video) {
    Packet p{t_, std::nullopt, size, video};
    ++sent_packets;
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < c_.random_loss(t_)) {
      ++dropped_random;
    } else {
      const int64_t start = std::max(link_free_us_, t_);
      if (start - t_ > c_.queue_limit_us) {
        ++dropped_queue;
      } else {
        const double cap = c_.capacity_bps(t_);
        link_free_us_ = start + static_cast<int64_t>(static_cast<double>(size) * 8.0 / cap * 1e6);
        p.arrival_us = link_free_us_ + c_.one_way_us;
        last_queue_us_ = start - t_;
      }
    }
    packets_.push_back(p);
  }

  // One packet of the competing flow: it takes its place in the queue.
  void send_cross(int size) {
    ++cross_packets;
    const int64_t start = std::max(link_free_us_, t_);
    if (start - t_ > c_.queue_limit_us) {
      ++cross_dropped;
      return;
    }
    link_free_us_ = start + static_cast<int64_t>(static_cast<double>(size) * 8.0 / c_.capacity_bps(t_) * 1e6);
  }

  void deliver(TraceEvent e) {
    e.t_us = t_ + c_.one_way_us;
    pending_.emplace(e.t_us, std::move(e));
  }

  // The highest sequence number (index) that arrived by now.
  int64_t highest_arrived() const {
    int64_t h = fb_next_ - 1;
    for (int64_t i = fb_next_; i < static_cast<int64_t>(packets_.size()); ++i) {
      const auto& p = packets_[static_cast<size_t>(i)];
      if (p.arrival_us && *p.arrival_us <= t_) h = i;
      if (p.send_us > t_) break;
    }
    return h;
  }

  void step() {
    const int64_t frame_us = 1'000'000 / 30;
    if (t_ >= next_frame_us_) {
      next_frame_us_ += frame_us;
      const double video_bps = std::max(0.0, static_cast<double>(bwe_.target_bps()) - 48'000.0) * c_.encoder_fill;
      int bytes = static_cast<int>(video_bps / 30.0 / 8.0);
      while (bytes > 0) {
        const int s = std::min(bytes, 1200);
        send(s + 40, true);
        bytes -= s;
      }
    }
    if (t_ % 20'000 == 0) send(120, false);
    cross_credit_bits_ += c_.cross_bps(t_) / 1000.0;
    while (cross_credit_bits_ >= 1200 * 8) {
      cross_credit_bits_ -= 1200 * 8;
      send_cross(1200);
    }

    if (c_.twcc && t_ % c_.twcc_interval_us == 0 && t_ > 0) {
      const int64_t h = highest_arrived();
      if (h >= fb_next_) {
        TraceEvent e;
        e.kind = TraceEvent::Kind::TransportFeedback;
        for (int64_t i = fb_next_; i <= h; ++i) {
          const auto& p = packets_[static_cast<size_t>(i)];
          e.packets.push_back(PacketResult{p.send_us, p.arrival_us, p.size});
        }
        fb_next_ = h + 1;
        deliver(std::move(e));
      }
    }
    if (c_.rr && t_ % c_.rr_interval_us == 0 && t_ > 0) {
      const int64_t h = highest_arrived_any();
      int expected = 0, lost = 0;
      for (int64_t i = rr_next_; i <= h; ++i) {
        const auto& p = packets_[static_cast<size_t>(i)];
        if (!p.video) continue;
        ++expected;
        if (!p.arrival_us) ++lost;
      }
      rr_next_ = std::max(rr_next_, h + 1);
      TraceEvent e;
      e.kind = TraceEvent::Kind::ReceiverReport;
      e.fraction_lost = expected ? static_cast<double>(lost) / expected : 0.0;
      e.rtt_ms = (2.0 * static_cast<double>(c_.one_way_us) + static_cast<double>(last_queue_us_)) / 1000.0;
      deliver(std::move(e));
    }
    if (c_.remb && t_ % 200'000 == 0 && t_ > 0) {
      if (auto v = c_.remb(t_)) {
        TraceEvent e;
        e.kind = TraceEvent::Kind::Remb;
        e.bps = *v;
        deliver(std::move(e));
      }
    }
    while (!pending_.empty() && pending_.begin()->first <= t_) {
      TraceEvent e = std::move(pending_.begin()->second);
      pending_.erase(pending_.begin());
      apply(std::move(e));
    }
    if (t_ % 100'000 == 0) {
      TraceEvent e;
      e.kind = TraceEvent::Kind::Tick;
      e.t_us = t_;
      apply(std::move(e));
      samples.push_back(LinkSample{t_, bwe_.target_bps(), queue_ms(), c_.capacity_bps(t_)});
    }
  }

  // Like highest_arrived() but independent of the TWCC cursor.
  int64_t highest_arrived_any() const {
    int64_t h = rr_next_ - 1;
    for (int64_t i = rr_next_; i < static_cast<int64_t>(packets_.size()); ++i) {
      const auto& p = packets_[static_cast<size_t>(i)];
      if (p.arrival_us && *p.arrival_us <= t_) h = i;
      if (p.send_us > t_) break;
    }
    return h;
  }

  void apply(TraceEvent e) {
    apply_trace_event(e, bwe_);
    if (record) recorded.push_back(std::move(e));
  }

  LinkConfig c_;
  BandwidthEstimator& bwe_;
  std::mt19937 rng_;
  int64_t t_ = 0;
  int64_t next_frame_us_ = 0;
  int64_t link_free_us_ = 0;
  int64_t last_queue_us_ = 0;
  double cross_credit_bits_ = 0;
  std::vector<Packet> packets_;
  int64_t fb_next_ = 0, rr_next_ = 0;
  std::multimap<int64_t, TraceEvent> pending_;
};

}  // namespace callagent::congestion::test
