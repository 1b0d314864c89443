#include "congestion/keyframe_requester.h"
#include "congestion/keyframe_responder.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

using namespace callagent::congestion;

namespace {
// Polls every 10 ms from `from` to `to`; the PLI times.
std::vector<int64_t> run(KeyframeRequester& r, int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t t = from; t < to; t += 10'000)
    if (r.poll(t)) out.push_back(t);
  return out;
}
}  // namespace

TEST_CASE("keyframe requests: at once, every 250 ms until a keyframe, then quiet", "[congestion][keyframe]") {
  KeyframeRequester r;
  CHECK_FALSE(r.poll(0));
  r.on_frame_lost(1'000'000);
  CHECK(r.next_poll_us().value_or(0) == 1'000'000);
  auto sent = run(r, 1'000'000, 1'800'000);
  REQUIRE(sent.size() == 3);
  CHECK(sent[0] == 1'000'000);
  CHECK(sent[1] == 1'250'000);
  CHECK(sent[2] == 1'500'000);
  // The 4th retry would be the 4th PLI within a second: it waits for the
  // budget (1 s after the first).
  CHECK(r.next_poll_us().value_or(0) == 2'000'000);
  CHECK(r.poll(2'000'000));
  // More losses while waiting change nothing.
  for (int i = 0; i < 100; ++i) r.on_frame_lost(1'800'000);
  CHECK(r.sent() == 4);
  r.on_decodable_frame(1'850'000, false);
  CHECK(r.state() == KeyframeRequester::State::Waiting);
  r.on_decodable_frame(1'900'000, true);
  CHECK(r.state() == KeyframeRequester::State::Idle);
  CHECK(run(r, 1'900'000, 5'000'000).empty());
  CHECK_FALSE(r.next_poll_us());
}

TEST_CASE("keyframe requests: the retry waits for a keyframe held in a long jitter buffer", "[congestion][keyframe]") {
  KeyframeRequester r;
  r.set_playout_latency_ms(520);  // ~200 ms RTT: the keyframe needs ~0.75 s
  r.on_frame_lost(0);
  auto sent = run(r, 0, 2'000'000);
  REQUIRE(sent.size() >= 2);
  CHECK(sent[0] == 0);
  CHECK(sent[1] == 830'000);  // 1.5 x 520 + 50 ms
  // A short buffer keeps the 250 ms floor.
  KeyframeRequester lan;
  lan.set_playout_latency_ms(120);
  lan.on_frame_lost(0);
  sent = run(lan, 0, 600'000);
  REQUIRE(sent.size() == 3);
  CHECK(sent[1] == 250'000);
}

TEST_CASE("keyframe requests: never more than 3 in a second, slower after 5 s", "[congestion][keyframe]") {
  KeyframeRequestConfig c;
  c.retry_us = 100'000;  // a tighter retry than the budget allows
  KeyframeRequester r(c);
  // A storm of losses with keyframes that never heal (each keyframe is
  // followed by another loss at once).
  std::vector<int64_t> sent;
  for (int64_t t = 0; t < 20'000'000; t += 10'000) {
    if (t % 50'000 == 0) {
      r.on_decodable_frame(t, true);
      r.on_frame_lost(t);
    }
    if (r.poll(t)) sent.push_back(t);
  }
  size_t worst = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    size_t n = 0;
    for (size_t j = i; j < sent.size() && sent[j] - sent[i] < 1'000'000; ++j) ++n;
    worst = std::max(worst, n);
  }
  std::printf("keyframe requests: loss storm for 20 s -> %zu PLIs, at most %zu in any second\n", sent.size(), worst);
  CHECK(worst <= 3);
  CHECK(sent.size() >= 50);  // it does keep asking
  // An unanswered wait slows to 1/s after 5 s.
  KeyframeRequester slow;
  slow.on_frame_lost(0);
  const auto s = run(slow, 0, 10'000'000);
  size_t late = 0;
  for (int64_t x : s) late += x >= 6'000'000;
  std::printf("keyframe requests: unanswered for 10 s -> %zu PLIs (%zu after 6 s)\n", s.size(), late);
  CHECK(late <= 4);
  CHECK(late >= 3);
}

TEST_CASE("keyframe requests: packets but nothing decodable for 3 s start a wait", "[congestion][keyframe]") {
  KeyframeRequester r;
  for (int64_t t = 0; t < 2'900'000; t += 20'000) r.on_packet(t);
  CHECK(r.state() == KeyframeRequester::State::Idle);
  r.on_packet(3'000'000);
  CHECK(r.state() == KeyframeRequester::State::Waiting);
  CHECK(r.poll(3'000'000));
  r.on_decodable_frame(3'100'000, true);
  for (int64_t t = 3'100'000; t < 5'000'000; t += 20'000) {
    r.on_packet(t);
    r.on_decodable_frame(t, false);
  }
  CHECK(r.state() == KeyframeRequester::State::Idle);
}

TEST_CASE("keyframe answers: one per 300 ms, a pending request coalesced", "[congestion][keyframe]") {
  KeyframeResponder k;
  CHECK(k.on_request(0));
  CHECK_FALSE(k.on_request(50'000));
  CHECK_FALSE(k.on_request(100'000));
  CHECK(k.pending());
  CHECK(k.next_due_us().value_or(0) == 300'000);
  CHECK_FALSE(k.poll(299'000));
  CHECK(k.poll(300'000));
  CHECK_FALSE(k.poll(700'000));  // served: the three requests made two keyframes
  CHECK(k.forced() == 2);
  CHECK(k.requests() == 3);
  // A keyframe of the encoder's own (caps change) satisfies a pending one.
  CHECK(k.on_request(1'000'000));
  CHECK_FALSE(k.on_request(1'100'000));
  k.on_keyframe_sent(1'150'000);
  CHECK_FALSE(k.pending());
  CHECK_FALSE(k.poll(1'500'000));
  // A PLI storm (every 20 ms for 10 s) -> at most one keyframe per 300 ms.
  KeyframeResponder s;
  int kf = 0;
  for (int64_t t = 0; t < 10'000'000; t += 10'000) {
    if (t % 20'000 == 0) kf += s.on_request(t);
    kf += s.poll(t);
  }
  std::printf("keyframe answers: 500 PLIs in 10 s -> %d keyframes\n", kf);
  CHECK(kf <= 34);
  CHECK(kf >= 33);
}
