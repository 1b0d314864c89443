#include "congestion/keyframe_responder.h"

namespace callagent::congestion {

bool KeyframeResponder::on_request(int64_t now_us) {
  ++requests_;
  if (due(now_us)) {
    last_us_ = now_us;
    pending_ = false;
    ++forced_;
    return true;
  }
  pending_ = true;
  return false;
}

void KeyframeResponder::on_keyframe_sent(int64_t now_us) {
  last_us_ = now_us;
  pending_ = false;
}

bool KeyframeResponder::poll(int64_t now_us) {
  if (!pending_ || !due(now_us)) return false;
  last_us_ = now_us;
  pending_ = false;
  ++forced_;
  return true;
}

std::optional<int64_t> KeyframeResponder::next_due_us() const {
  if (!pending_) return std::nullopt;
  return last_us_ ? *last_us_ + min_interval_us_ : 0;
}

}  // namespace callagent::congestion
