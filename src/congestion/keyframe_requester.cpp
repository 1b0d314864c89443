#include "congestion/keyframe_requester.h"

#include <algorithm>

namespace callagent::congestion {

void KeyframeRequester::set_state(State s) { state_ = s; }

void KeyframeRequester::on_frame_lost(int64_t now_us) {
  if (state_ == State::Waiting) return;  // already asking
  set_state(State::Waiting);
  wait_start_us_ = now_us;
  last_sent_us_.reset();
}

void KeyframeRequester::on_decodable_frame(int64_t now_us, bool keyframe) {
  last_decodable_us_ = now_us;
  if (keyframe && state_ == State::Waiting) set_state(State::Idle);
}

void KeyframeRequester::on_packet(int64_t now_us) {
  if (!first_packet_us_) first_packet_us_ = now_us;
  const int64_t since = now_us - last_decodable_us_.value_or(*first_packet_us_);
  if (state_ == State::Idle && since >= config_.no_frame_timeout_us) on_frame_lost(now_us);
}

bool KeyframeRequester::budget_ok(int64_t now_us) {
  while (!recent_.empty() && now_us - recent_.front() >= 1'000'000) recent_.pop_front();
  return static_cast<int>(recent_.size()) < config_.max_per_second;
}

int64_t KeyframeRequester::retry_interval_us() const {
  if (*last_sent_us_ - wait_start_us_ >= config_.slow_after_us) return config_.slow_retry_us;
  const int64_t for_latency = static_cast<int64_t>(latency_ms_) * 1500 + 50'000;
  return std::max(config_.retry_us, for_latency);
}

std::optional<int64_t> KeyframeRequester::next_poll_us() const {
  if (state_ != State::Waiting) return std::nullopt;
  if (!last_sent_us_) {
    if (static_cast<int>(recent_.size()) >= config_.max_per_second) return recent_.front() + 1'000'000;
    return wait_start_us_;
  }
  int64_t next = *last_sent_us_ + retry_interval_us();
  if (static_cast<int>(recent_.size()) >= config_.max_per_second) next = std::max(next, recent_.front() + 1'000'000);
  return next;
}

bool KeyframeRequester::poll(int64_t now_us) {
  if (state_ != State::Waiting) return false;
  if (last_sent_us_) {
    if (now_us - *last_sent_us_ < retry_interval_us()) return false;
  }
  if (!budget_ok(now_us)) return false;
  recent_.push_back(now_us);
  last_sent_us_ = now_us;
  ++sent_;
  return true;
}

}  // namespace callagent::congestion
