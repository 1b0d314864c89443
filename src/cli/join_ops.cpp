#include "cli/join_ops.h"

#include "stats/prometheus.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

namespace callagent::cli {

namespace {
std::string mbit(double bps) { return fmt::format("{:.1f} Mbit/s", bps / 1e6); }
}  // namespace

Result<std::unique_ptr<JoinOps>> JoinOps::create(const std::string& metrics_address, SessionGetter session) {
  std::unique_ptr<JoinOps> ops(new JoinOps(std::move(session)));
  if (!metrics_address.empty()) {
    auto l = MetricsListener::start(metrics_address, [p = ops.get()] { return p->render(); });
    if (!l) return l.error();
    ops->metrics_ = std::move(*l);
  }
  ops->tick_.start(std::chrono::milliseconds(500), [p = ops.get()] {
    p->tick();
    return true;
  });
  return ops;
}

JoinOps::~JoinOps() { tick_.cancel(); }

std::string JoinOps::describe(const call::SessionStatus& s, const stats::Snapshot* last) {
  const std::string room = s.room.empty() ? "the room" : "room " + s.room;
  const std::string partner = s.partner.empty() ? "the partner" : s.partner;
  std::string line;
  if (s.state == "idle") {
    line = "joining " + room;
  } else if (s.state == "alone") {
    line = "in " + room + ", waiting for a partner";
  } else if (s.state == "negotiating") {
    line = "in " + room + ", connecting to " + partner;
  } else if (s.state == "connected") {
    line = "connected to " + partner + " in " + room;
    if (last && last->state == "connected") {
      const double in = last->video_in.bitrate + last->audio_in.bitrate;
      const double out = last->video_out.bitrate + last->audio_out.bitrate;
      line += ", " + mbit(in) + " in, " + mbit(out) + " out";
      if (last->video_in.active) line += fmt::format(", {:.0f} fps", last->video_in.fps);
    }
  } else {
    line = "leaving the call";
  }
  if (s.state != "idle" && s.state != "finished" && s.state != "stopping" && !s.signaling_connected)
    line += "; signaling lost, reconnecting";
  return line;
}

void JoinOps::tick() {
  const call::CallSession* s = session_();
  if (!s) return;
  const call::SessionStatus st = s->status();
  const stats::Snapshot* last = s->stats() && s->stats()->last() ? &*s->stats()->last() : nullptr;
  const std::string line = describe(st, last);
  if (st.state == "finished" || st.state == "stopping") return stopping(line);
  // In the room: the signaling said so and the Call sent its join.
  if (st.state != "idle" && !notifier_.is_ready())
    notifier_.ready(line);
  else
    notifier_.status(line);
}

void JoinOps::stopping(const std::string& why) { notifier_.stopping(why); }

std::string JoinOps::render() const {
  stats::CallFacts f;
  const call::CallSession* s = session_();
  if (!s) return stats::call_metrics_text(f, nullptr, stats::CallData{});
  const call::SessionStatus st = s->status();
  f.state = st.state;
  f.partner_present = st.partner_present;
  f.signaling_connected = st.signaling_connected;
  f.signaling_reconnects = st.signaling_reconnects;
  const call::SessionTotals t = s->totals();
  f.partner_connections = static_cast<uint64_t>(t.partners_connected);
  f.recording_files = t.recordings.size();
  for (const auto& path : t.recordings) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    if (!ec) f.recording_bytes += n;
  }
  if (!s->stats()) return stats::call_metrics_text(f, nullptr, stats::CallData{});
  const auto& last = s->stats()->last();
  return stats::call_metrics_text(f, last ? &*last : nullptr, s->stats()->data());
}

}  // namespace callagent::cli
