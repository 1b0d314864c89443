#pragma once
// RateAllocator: splits the estimator's target (bit/s) between the Opus and
// the VP8 encoder, and decides when an encoder's setting actually changes.
//
//  - Audio first: audio gets audio_share (10 %) of the target, within
//    [audio_min, audio_max] (32-64 kbit/s): speech stays intelligible when
//    video starves, and audio never waits for video. Its setting moves only
//    when the wanted value is a whole step (8 kbit/s) away from the applied
//    one, which gives a dead band of 80 kbit/s of target around each level.
//  - Video gets the rest, within [video_min, video_max] (video_max: the
//    preset's or --video-bitrate). Decreases apply at once when the wanted
//    rate is >= 5 % below the applied one (congestion is no time to wait);
//    increases need >= 10 % and 1 s since the last change, or >= 3 % and
//    5 s (so a slowly rising estimate still arrives), or at once when the
//    caller says so (`now`: the estimator started a probe, whose sample
//    is the encoder's output of its first second: held back by the 1 s
//    rule, a probe's first 0.58 s once ran at the old rate, and the
//    encoder reached the probe rate just as the probe ended). vp8enc's
//    target-bitrate is live, but every change disturbs its rate control, so
//    it is not touched on every report.
// The first update applies both settings.
//
// Units: bit/s, microseconds. Pure: time is passed in.

#include <algorithm>
#include <cstdint>

namespace callagent::congestion {

struct RateAllocatorConfig {
  int64_t audio_min_bps = 32'000;
  int64_t audio_max_bps = 64'000;
  double audio_share = 0.10;
  int64_t audio_step_bps = 8'000;
  int64_t video_min_bps = 50'000;
  int64_t video_max_bps = 2'500'000;
  double video_down = 0.05;          // apply a decrease of at least this share at once
  double video_up = 0.10;            // apply an increase of this share after up_interval
  double video_up_slow = 0.03;       // ... or of this share after up_slow_interval
  int64_t up_interval_us = 1'000'000;
  int64_t up_slow_interval_us = 5'000'000;
};

struct Allocation {
  int64_t audio_bps = 0;
  int64_t video_bps = 0;
};

class RateAllocator {
 public:
  explicit RateAllocator(RateAllocatorConfig config = {});

  struct Decision {
    Allocation applied;          // what the encoders should be set to now
    bool audio_changed = false;  // set opusenc bitrate
    bool video_changed = false;  // set vp8enc target-bitrate
    int64_t video_wanted_bps = 0;  // before hysteresis (the ladder's input)
  };
  // `now`: apply an increase at once (a probe starts).
  Decision update(int64_t now_us, int64_t target_bps, bool now = false);

  const Allocation& applied() const { return applied_; }
  void set_video_max(int64_t bps) { config_.video_max_bps = bps; }
  void set_audio_max(int64_t bps) {
    config_.audio_max_bps = bps;
    config_.audio_min_bps = std::min(config_.audio_min_bps, bps);
  }

 private:
  RateAllocatorConfig config_;
  Allocation applied_;
  bool first_ = true;
  int64_t last_video_change_us_ = 0;
};

}  // namespace callagent::congestion
