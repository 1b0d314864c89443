#include "stats/status_line.h"

#include "common/logging.h"

#include <fmt/format.h>

#include <cstdio>

namespace callagent::stats {

namespace {
std::string rate(double bps) {
  if (bps >= 1e6) return fmt::format("{:.2f} Mbit/s", bps / 1e6);
  return fmt::format("{:.0f} kbit/s", bps / 1e3);
}
}  // namespace

std::string format_status(const Snapshot& s) {
  std::string line = s.state.empty() ? "-" : s.state;
  const auto& vi = s.video_in;
  const auto& ai = s.audio_in;
  if (vi.active || ai.active) {
    line += fmt::format(" | in {}", rate(vi.bitrate + ai.bitrate));
    if (vi.active) line += fmt::format(" {:.0f} fps {}x{}", vi.fps, vi.width, vi.height);
    double loss = std::max(vi.loss_pct.value_or(0), ai.loss_pct.value_or(0));
    line += fmt::format(" loss {:.1f}%", loss);
  }
  const auto& vo = s.video_out;
  const auto& ao = s.audio_out;
  if (vo.active || ao.active) {
    line += fmt::format(" | out {}", rate(vo.bitrate + ao.bitrate));
    if (vo.active) line += fmt::format(" {:.0f} fps", vo.fps);
  }
  if (s.rtt_ms) line += fmt::format(" | rtt {:.0f} ms", *s.rtt_ms);
  if (s.freezes) line += fmt::format(" | freezes {}", s.freezes);
  if (s.latency) line += fmt::format(" | latency {:.0f} ms", s.latency->median_ms);
  return line;
}

StatusLine::StatusLine(bool tty, std::chrono::milliseconds plain_every)
    : tty_(tty), plain_every_(plain_every) {}

StatusLine::~StatusLine() { clear(); }

void StatusLine::clear() {
  if (tty_ && drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

void StatusLine::update(const Snapshot& s) {
  const std::string line = format_status(s);
  if (tty_) {
    // The cursor stays at the start of the line: a log line that follows
    // overwrites the status instead of being glued to it.
    std::fprintf(stderr, "\r\033[K%s\r", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (last_plain_ != std::chrono::steady_clock::time_point{} && now - last_plain_ < plain_every_) return;
  last_plain_ = now;
  logging::get("stats")->info("status: {}", line);
}

}  // namespace callagent::stats
