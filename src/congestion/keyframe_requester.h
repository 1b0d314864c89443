#pragma once
// KeyframeRequester (receiver side): when to send a PLI for the partner's
// video. A lost frame that NACK/FEC could not repair leaves the decoder
// with references it does not have; only a keyframe heals it.
//
//   state diagram:   Idle --frame lost / no decodable frame for 3 s--> Waiting
//                    Waiting --keyframe decoded--> Idle
//
//  - Waiting: one PLI at once, then again every 250 ms until a keyframe
//    arrives (a PLI or the keyframe itself may be lost; libwebrtc re-asks
//    every 200 ms, we allow for the time our RTCP packet may wait for its
//    slot), or every 1.5 x the jitter buffer's latency + 50 ms when that
//    is longer (set_playout_latency_ms()): the keyframe comes a round trip
//    after the PLI and then waits that latency like every packet, and the
//    latency is ~2 x RTT + 50 ms. At 200 ms RTT (latency ~520 ms) a
//    250 ms retry asked two or three times per lost frame, and the
//    partner, which answers at most every 300 ms, sent a second keyframe
//    for nothing;
//    after 5 s of waiting, once a second (the sender is slow or cannot
//    encode: asking faster would not help).
//  - never more than 3 PLIs in any sliding second, however many losses
//    are reported: no request storms.
//  - media arriving while nothing decodes for 3 s also starts a wait (the
//    start of a stream whose first keyframe was lost).
// We only send PLI: FIR is for a decoder that joins a running stream,
// which never happens in a two-party call.
//
// poll(now) returns true when a PLI should go out now; next_poll_us() says
// when to poll next (for a one-shot timer). Times in microseconds.

#include <cstdint>
#include <deque>
#include <optional>

namespace callagent::congestion {

struct KeyframeRequestConfig {
  int64_t retry_us = 250'000;
  int64_t slow_after_us = 5'000'000;
  int64_t slow_retry_us = 1'000'000;
  int max_per_second = 3;
  int64_t no_frame_timeout_us = 3'000'000;
};

class KeyframeRequester {
 public:
  enum class State { Idle, Waiting };
  explicit KeyframeRequester(KeyframeRequestConfig config = {}) : config_(config) {}

  // A frame cannot be recovered (an unrepaired gap, a decode error).
  void on_frame_lost(int64_t now_us);
  // A frame went to / came out of the decoder.
  void on_decodable_frame(int64_t now_us, bool keyframe);
  // A media packet arrived (starts the 3 s "nothing decodes" clock).
  void on_packet(int64_t now_us);
  // True: send one PLI now (counted).
  bool poll(int64_t now_us);
  // The partner's video waits this long in our jitter buffer (0: unknown).
  void set_playout_latency_ms(unsigned ms) { latency_ms_ = ms; }
  std::optional<int64_t> next_poll_us() const;

  State state() const { return state_; }
  int sent() const { return sent_; }

 private:
  void set_state(State s);
  bool budget_ok(int64_t now_us);
  int64_t retry_interval_us() const;

  KeyframeRequestConfig config_;
  State state_ = State::Idle;
  int64_t wait_start_us_ = 0;
  std::optional<int64_t> last_sent_us_;
  std::optional<int64_t> last_decodable_us_, first_packet_us_;
  std::deque<int64_t> recent_;
  int sent_ = 0;
  unsigned latency_ms_ = 0;
};

}  // namespace callagent::congestion
