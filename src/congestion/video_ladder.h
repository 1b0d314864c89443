#pragma once
// VideoLadder: which resolution and frame rate the sender encodes, given
// the video bitrate the allocator grants. Like a browser, a starved encoder
// sends fewer, sharper pixels instead of a blocky full-size picture.
//
// Rungs, from the configured preset down (never above it):
//   the preset itself, then the standard heights below it among
//   540, 360, 270, 180 (the preset's aspect ratio, even widths), then the
//   smallest of them at half the frame rate (presets of >= 20 fps).
// Each rung has a minimum rate, by pixel count (linear in between):
//   180p 150k, 270p 200k, 360p 300k, 540p 500k, 720p 900k, 1080p 2M
// (the VP8 minimums libwebrtc uses for 270p-720p; 180p and 1080p are our
// extension), scaled by fps / 30 for presets below 30 fps. The
// half-frame-rate bottom rung has none.
//
// Steps:
//  - down when the rate stayed below the current rung's minimum for 1 s:
//    straight to the best rung the rate meets (one caps change, one
//    keyframe, rather than one per rung);
//  - up when the rate stayed >= 1.2 x a higher rung's minimum for 3 s: to
//    the best rung the lowest rate of those 3 s meets (the 20 % margin
//    keeps a rate near a boundary from flapping; the lowest rate, not the
//    last, because a probe raises the rate for a moment: measured on a
//    shared 2 Mbit/s cap, a probe's 1.5 Mbit/s took 360p straight to 720p,
//    and that keyframe with the probe drowned the link for 2 s);
//    Not during a probe of the estimator (may_step_up false): a probe
//    that fails ends within a second, and a step taken on it would put the
//    bigger rung's keyframe on top of the probe's flood (measured on a
//    shared 2 Mbit/s cap: a step to 720p in a probe's second lost 31 of
//    the page's packets); the 3 s start again after it;
//  - never two steps within 5 s: vp8enc re-creates its encoder and sends
//    a keyframe on every caps change. The start does not count: a call
//    that starts on a thin link must leave the preset's size within the
//    1 s hold (the estimator starts at the preset's rate, so a start does
//    not dip below it by itself; measured on a 2 Mbit/s cap, waiting 5 s
//    more meant 5 s of a drowned link);
//  - down one rung when the encoder cannot hold the current one at the
//    rate it has (on_encoder()): it made fewer than 75 % of the frames it
//    was given for 2 s (vp8enc drops frames when its buffer runs low, see
//    media/encoder.cpp). The rate may be well above the rung's minimum:
//    the minimums suit a camera, and a detailed picture (the test
//    pattern's noise) needs twice as much at 720p (measured on a shared
//    2 Mbit/s cap: 720p at 1.0-1.2 Mbit/s came out at 12-17 fps, the page
//    received 19 fps, while 540p at that rate ran at 30). That rung's
//    entry rate is then raised to 1.5 x the rate it failed at, for 60 s
//    (it must not be re-entered at once; the picture may get simpler).
//    libwebrtc's quality scaler reacts to the quantizer and to dropped
//    frames in the same way; GStreamer's vp8enc does not tell its
//    quantizer, dropped frames are what we can see.
// After a step up the encoder gets only rate_factor() = 0.65 of its rate
// for 1 s. vp8enc re-creates its encoder on the caps change, and the new
// one starts with a full buffer to spend on top of a keyframe, within a
// few hundred milliseconds. Measured on a shared 2 Mbit/s cap: steps up
// to 720p at 1.25-1.29 Mbit/s sent 1.31-1.37 Mbit/s in their second, and
// with the partner's 0.35 Mbit/s in the same queue each was followed by
// a burst of 25-50 of the page's packets lost, the call's only loss. At
// 0.65 the step's second sent 1.08-1.12 Mbit/s (of 1.2-1.45) and 3-4
// packets were lost after it. A step down needs none: the smaller
// picture needs less than it gets.
//
// update() returns the new format when a step happens; the adapter changes
// the capsfilter and sets the encoder's target-bitrate to the allocator's
// rate x rate_factor().
//
// Units: bit/s, microseconds. Pure: time is passed in.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace callagent::congestion {

struct VideoFormat {
  int width = 1280;
  int height = 720;
  int fps = 30;
  bool operator==(const VideoFormat&) const = default;
};
std::string to_string(const VideoFormat& f);

struct VideoRung {
  VideoFormat format;
  int64_t min_bps = 0;  // leave below this
  int64_t up_bps = 0;   // enter at or above this
};

struct VideoLadderConfig {
  VideoFormat preset;
  int64_t min_step_interval_us = 5'000'000;
  int64_t down_hold_us = 1'000'000;
  int64_t up_hold_us = 3'000'000;
  double up_margin = 1.2;
  double starved_ratio = 0.75;          // encoded / given frames below this...
  int64_t starved_hold_us = 2'000'000;  // ...for this long: one rung down
  double learned_margin = 1.5;       // the failed rung's entry: x the rate it failed at
  int64_t learned_hold_us = 60'000'000;
  double step_up_factor = 0.65;      // the encoder's share of its rate...
  int64_t step_up_damp_us = 1'000'000;  // ...this long after a step up
};

class VideoLadder {
 public:
  explicit VideoLadder(VideoLadderConfig config = {});

  // The rungs for a preset (first = the preset).
  static std::vector<VideoRung> build(const VideoFormat& preset, double up_margin = 1.2);
  // The minimum rate for a format by the table above.
  static int64_t min_bps_for(const VideoFormat& f);

  // Feed the video rate; returns the new format if it steps now.
  std::optional<VideoFormat> update(int64_t now_us, int64_t video_bps, bool may_step_up = true);
  // Feed the encoder's frame rates over the last window (>= 1 s): frames
  // it was given and frames it made, at the rate it had; returns the new
  // format if it steps down now (see the header).
  std::optional<VideoFormat> on_encoder(int64_t now_us, double in_fps, double out_fps, int64_t video_bps);

  // The share of the video rate the encoder should get now: < 1 just
  // after a step up (see the header), else 1.
  double rate_factor(int64_t now_us) const;

  const VideoFormat& current() const { return rungs_[index_].format; }
  size_t index() const { return index_; }
  const std::vector<VideoRung>& rungs() const { return rungs_; }
  int steps() const { return steps_; }

 private:
  size_t best_for_down(int64_t bps) const;
  size_t best_for_up(int64_t bps) const;
  void step_to(int64_t now_us, size_t next);

  VideoLadderConfig config_;
  std::vector<VideoRung> rungs_;
  size_t index_ = 0;
  int64_t last_step_us_ = 0;
  bool last_step_up_ = false;
  std::optional<int64_t> below_since_, above_since_;
  int64_t above_min_bps_ = 0;  // the lowest rate since above_since_
  std::optional<int64_t> starved_since_;
  std::vector<int64_t> table_up_bps_;     // each rung's entry rate by the table
  std::vector<int64_t> raised_until_us_;  // when a raised entry rate returns to it (0: not raised)
  int steps_ = 0;
};

}  // namespace callagent::congestion
