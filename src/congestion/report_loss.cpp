#include "congestion/report_loss.h"

#include <algorithm>

namespace callagent::congestion {

std::optional<double> ReportLoss::on_report(uint32_t ext_highest_seq, int64_t cumulative_lost) {
  // The extended sequence number grows by one per packet; a difference
  // taken as signed 32 bits also tells a counter that went back.
  const auto expected = static_cast<int32_t>(ext_highest_seq - base_seq_);
  if (!started_ || expected < 0) {
    started_ = true;
    base_seq_ = ext_highest_seq;
    base_lost_ = cumulative_lost;
    return std::nullopt;
  }
  if (expected < kMinPackets) return std::nullopt;
  // Duplicates and late packets can make the cumulative count fall.
  const int64_t lost = std::clamp<int64_t>(cumulative_lost - base_lost_, 0, expected);
  base_seq_ = ext_highest_seq;
  base_lost_ = cumulative_lost;
  return static_cast<double>(lost) / expected;
}

}  // namespace callagent::congestion
