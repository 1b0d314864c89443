#include "stats/status_line.h"

#include "common/logging.h"
#include "common/log_status.h"

#include <fmt/format.h>

#include <sys/ioctl.h>
#include <unistd.h>

namespace callagent::stats {

namespace {
std::string rate(double bps) {
  if (bps >= 1e6) return fmt::format("{:.2f} Mbit/s", bps / 1e6);
  return fmt::format("{:.0f} kbit/s", bps / 1e3);
}
// The terminal's width, or 80 when it does not say.
int terminal_columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}
}  // namespace

std::string fit_status(const std::string& line, int columns) {
  // One column short of the width: a line that fills the last column leaves
  // some terminals in their pending wrap, and the next "\r" lands one row down.
  const size_t max = columns > 1 ? static_cast<size_t>(columns - 1) : 1;
  std::string out = line;
  while (out.size() > max) {
    auto cut = out.rfind(" | ");
    if (cut == std::string::npos || cut == 0) {
      out.resize(max);
      break;
    }
    out.resize(cut);  // drop the last field rather than cut one in half
  }
  return out;
}

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
  if (const auto& c = s.congestion) {
    // The congestion controller: estimate, what limits it, the sent format.
    line += fmt::format(" | target {} ({})", rate(static_cast<double>(c->target_bps)), c->limited_by);
    if (c->width > 0) line += fmt::format(" {}x{}@{}", c->width, c->height, c->fps);
    if (c->ladder_steps > 0) line += fmt::format(" steps {}", c->ladder_steps);
  }
  if (s.rtt_ms) line += fmt::format(" | rtt {:.0f} ms", *s.rtt_ms);
  // Loss repair: recovered/asked, given up, keyframes asked for.
  const auto& r = s.recovery;
  if (r.nack_requests || r.keyframes_requested || r.rtx_sent)
    line += fmt::format(" | rtx {}/{} lost {}->{} pli {}", r.rtx_recovered, r.nack_requests, r.lost_before_recovery,
                        r.lost_after_recovery, r.keyframes_requested);
  if (s.freezes) line += fmt::format(" | freezes {}", s.freezes);
  if (s.latency) line += fmt::format(" | latency {:.0f} ms", s.latency->median_ms);
  // Who the partner is and the codec it sends, last: on a narrow terminal
  // the numbers matter more ("| partner Firefox VP8").
  std::string who = s.partner_implementation;
  const std::string codec = s.video_in.active ? s.video_in.codec : s.audio_in.active ? s.audio_in.codec : "";
  if (!codec.empty()) who += (who.empty() ? "" : " ") + codec;
  if (!who.empty()) line += " | partner " + who;
  return line;
}

StatusLine::StatusLine(bool tty, std::chrono::milliseconds plain_every)
    : tty_(tty), plain_every_(plain_every) {}

StatusLine::~StatusLine() { clear(); }

void StatusLine::clear() {
  if (tty_ && drawn_) {
    logging::clear_status();
    drawn_ = false;
  }
}

void StatusLine::update(const Snapshot& s) {
  const std::string line = format_status(s);
  if (tty_) {
    // Drawn by the log's sink, which takes it off the screen around every
    // log line: a wrapped status could not be erased, so it must fit.
    logging::show_status(fit_status(line, terminal_columns()));
    drawn_ = true;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (last_plain_ != std::chrono::steady_clock::time_point{} && now - last_plain_ < plain_every_) return;
  last_plain_ = now;
  logging::get("stats")->info("status: {}", line);
}

}  // namespace callagent::stats
