#include "congestion/retransmission_budget.h"

#include <algorithm>
#include <utility>

namespace callagent::congestion {

void RetransmissionBudget::refill(int64_t now_us) {
  if (last_us_ >= 0 && now_us > last_us_)
    tokens_ += bytes_per_s() * (static_cast<double>(now_us - last_us_) / 1e6);
  tokens_ = std::min(tokens_, bucket_size());
  if (last_us_ < 0 || now_us > last_us_) last_us_ = now_us;
}

void RetransmissionBudget::prune(int64_t now_us) {
  if (now_us - last_prune_us_ < kWindowUs) return;
  last_prune_us_ = now_us;
  std::erase_if(last_sent_, [&](const auto& e) { return now_us - e.second > min_gap_us(); });
}

bool RetransmissionBudget::allow(int64_t now_us, uint32_t ssrc, uint16_t seqnum) {
  refill(now_us);
  prune(now_us);
  const uint64_t key = (static_cast<uint64_t>(ssrc) << 16) | seqnum;
  const auto it = last_sent_.find(key);
  if ((it != last_sent_.end() && now_us - it->second < min_gap_us()) || tokens_ < kPacketBytes) {
    ++refused_;
    return false;
  }
  tokens_ -= kPacketBytes;
  last_first_ = it == last_sent_.end();
  last_sent_[key] = now_us;
  return true;
}

bool RetransmissionBudget::duplicate(int64_t now_us) {
  if (rtt_ms_ < kDuplicateMinRttMs || !std::exchange(last_first_, false)) return false;
  refill(now_us);
  if (tokens_ < bucket_size() / 2 + kPacketBytes) return false;
  tokens_ -= kPacketBytes;
  ++duplicates_;
  return true;
}

}  // namespace callagent::congestion
