#include "congestion/video_ladder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace callagent::congestion {

std::string to_string(const VideoFormat& f) { return fmt::format("{}x{}@{}", f.width, f.height, f.fps); }

int64_t VideoLadder::min_bps_for(const VideoFormat& f) {
  static const std::pair<double, double> table[] = {
      {320.0 * 180, 150'000}, {480.0 * 270, 200'000},   {640.0 * 360, 300'000},
      {960.0 * 540, 500'000}, {1280.0 * 720, 900'000}, {1920.0 * 1080, 2'000'000},
  };
  const double px = static_cast<double>(f.width) * f.height;
  double bps = table[0].second;
  if (px <= table[0].first) {
    bps = table[0].second * px / table[0].first;
  } else if (px >= std::end(table)[-1].first) {
    bps = std::end(table)[-1].second * px / std::end(table)[-1].first;
  } else {
    for (size_t i = 1; i < std::size(table); ++i)
      if (px <= table[i].first) {
        const auto [x0, y0] = table[i - 1];
        const auto [x1, y1] = table[i];
        bps = y0 + (y1 - y0) * (px - x0) / (x1 - x0);
        break;
      }
  }
  if (f.fps < 30) bps *= std::max(0.5, f.fps / 30.0);
  return static_cast<int64_t>(bps);
}

std::vector<VideoRung> VideoLadder::build(const VideoFormat& preset, double up_margin) {
  std::vector<VideoRung> r;
  auto add = [&](VideoFormat f, bool floor) {
    VideoRung g;
    g.format = f;
    g.min_bps = floor ? 0 : min_bps_for(f);
    g.up_bps = static_cast<int64_t>(static_cast<double>(floor ? min_bps_for(f) / 2 : g.min_bps) * up_margin);
    r.push_back(g);
  };
  add(preset, false);
  const double aspect = preset.height > 0 ? static_cast<double>(preset.width) / preset.height : 16.0 / 9.0;
  for (int h : {540, 360, 270, 180}) {
    if (h >= preset.height) continue;
    int w = static_cast<int>(std::lround(h * aspect));
    w += w % 2;
    add(VideoFormat{w, h, preset.fps}, false);
  }
  if (preset.fps >= 20) {
    VideoFormat low = r.back().format;
    low.fps = preset.fps / 2;
    add(low, true);
  } else {
    r.back().min_bps = 0;  // nothing below: the last rung stays whatever the rate
  }
  return r;
}

VideoLadder::VideoLadder(VideoLadderConfig config) : config_(config), rungs_(build(config.preset, config.up_margin)) {
  for (const auto& r : rungs_) table_up_bps_.push_back(r.up_bps);
  raised_until_us_.assign(rungs_.size(), 0);
}

size_t VideoLadder::best_for_down(int64_t bps) const {
  for (size_t i = index_ + 1; i < rungs_.size(); ++i)
    if (bps >= rungs_[i].min_bps) return i;
  return rungs_.size() - 1;
}

size_t VideoLadder::best_for_up(int64_t bps) const {
  for (size_t i = 0; i < index_; ++i)
    if (bps >= rungs_[i].up_bps) return i;
  return index_;
}

std::optional<VideoFormat> VideoLadder::update(int64_t now_us, int64_t video_bps, bool may_step_up) {
  for (size_t i = 0; i < rungs_.size(); ++i)
    if (raised_until_us_[i] != 0 && now_us >= raised_until_us_[i]) {
      rungs_[i].up_bps = table_up_bps_[i];
      raised_until_us_[i] = 0;
    }
  const auto& cur = rungs_[index_];
  if (video_bps < cur.min_bps) {
    if (!below_since_) below_since_ = now_us;
  } else {
    below_since_.reset();
  }
  if (may_step_up && index_ > 0 && video_bps >= rungs_[index_ - 1].up_bps) {
    if (!above_since_) {
      above_since_ = now_us;
      above_min_bps_ = video_bps;
    }
    above_min_bps_ = std::min(above_min_bps_, video_bps);
  } else {
    above_since_.reset();
  }
  if (steps_ > 0 && now_us - last_step_us_ < config_.min_step_interval_us) return std::nullopt;
  size_t next = index_;
  if (below_since_ && now_us - *below_since_ >= config_.down_hold_us)
    next = best_for_down(video_bps);
  else if (above_since_ && now_us - *above_since_ >= config_.up_hold_us)
    next = best_for_up(above_min_bps_);
  if (next == index_) return std::nullopt;
  step_to(now_us, next);
  return rungs_[index_].format;
}

void VideoLadder::step_to(int64_t now_us, size_t next) {
  last_step_up_ = next < index_;
  index_ = next;
  last_step_us_ = now_us;
  below_since_.reset();
  above_since_.reset();
  starved_since_.reset();
  ++steps_;
}

double VideoLadder::rate_factor(int64_t now_us) const {
  if (last_step_up_ && now_us - last_step_us_ < config_.step_up_damp_us) return config_.step_up_factor;
  return 1.0;
}

std::optional<VideoFormat> VideoLadder::on_encoder(int64_t now_us, double in_fps, double out_fps,
                                                   int64_t video_bps) {
  // A source that delivers almost nothing (a paused file, a stalled
  // camera) says nothing about the encoder.
  const bool starved = in_fps >= 5.0 && out_fps < config_.starved_ratio * in_fps;
  if (!starved || index_ + 1 >= rungs_.size()) {
    starved_since_.reset();
    return std::nullopt;
  }
  if (!starved_since_) starved_since_ = now_us;
  if (now_us - *starved_since_ < config_.starved_hold_us) return std::nullopt;
  if (steps_ > 0 && now_us - last_step_us_ < config_.min_step_interval_us) return std::nullopt;
  auto& failed = rungs_[index_];
  failed.up_bps =
      std::max(failed.up_bps, static_cast<int64_t>(static_cast<double>(video_bps) * config_.learned_margin));
  raised_until_us_[index_] = now_us + config_.learned_hold_us;
  step_to(now_us, index_ + 1);
  return rungs_[index_].format;
}

}  // namespace callagent::congestion
