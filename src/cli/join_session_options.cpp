// JoinOptions -> call::SessionOptions, value by value.
#include "cli/join_session_options.h"

#include "cli/duration.h"
#include "media/media_options.h"
#include "signaling/room_url.h"

#include <unistd.h>

#include <string_view>

namespace callagent::cli {

namespace {

bool ends_with(const std::string& s, std::string_view ext) {
  return s.size() > ext.size() && s.compare(s.size() - ext.size(), ext.size(), ext) == 0;
}

Status media_options(const JoinOptions& o, media::MediaOptions& m) {
  auto vs = media::parse_source_spec(o.video_source, media::MediaKind::Video);
  if (!vs) return vs.error();
  auto as = media::parse_source_spec(o.audio_source, media::MediaKind::Audio);
  if (!as) return as.error();
  m.video_source = *vs;
  m.audio_source = *as;
  if (o.loop) m.video_source.loop = m.audio_source.loop = true;
  auto vp = media::parse_video_preset(o.video_preset, o.fps);
  if (!vp) return vp.error();
  m.video = *vp;
  if (o.video_bitrate) m.video.bitrate_kbps = *o.video_bitrate;
  auto ap = media::parse_audio_preset(o.audio_preset);
  if (!ap) return ap.error();
  m.audio = *ap;
  if (o.audio_bitrate) m.audio.bitrate_kbps = *o.audio_bitrate;
  auto vc = media::parse_video_codec(o.codec);
  if (!vc) return vc.error();
  m.codec = *vc;
  m.audio_processing = o.audio_processing;
  m.echo_cancel = o.echo_cancel;
  if (o.jitter_ms) m.latency_ms = static_cast<unsigned>(*o.jitter_ms);
  m.latency_pinned = o.jitter_ms.has_value();
  m.congestion_control = o.congestion_control != "off";
  if (!o.no_stun && !o.stun.empty()) m.ice.stun_url = gst_stun_url(o.stun);
  m.ice.turn_urls = o.turn;
  m.ice.local_addresses = o.ice_ips;
  auto policy = media::parse_ice_transport_policy(o.ice_transport_policy);
  if (!policy) return policy.error();
  m.ice.transport_policy = *policy;
  if (*policy == media::IceOptions::TransportPolicy::Relay && o.turn.empty())
    return Error{ExitCode::Usage, "--ice-transport-policy relay needs a --turn server"};
  if (o.display) {
    m.output.video_sink = o.video_sink.empty() ? "auto" : o.video_sink;
    m.output.audio_sink = o.audio_sink.empty() ? "auto" : o.audio_sink;
  } else if (!o.video_sink.empty() || !o.audio_sink.empty()) {
    m.output.video_sink = o.video_sink;
    m.output.audio_sink = o.audio_sink;
  }
  m.output.fullscreen = o.fullscreen;
  if (o.self_view != "off") {
    if (m.output.video_sink.empty()) return Error{ExitCode::Usage, "--self-view needs --display"};
    if (o.video_source == "none")
      return Error{ExitCode::Usage, "--self-view: there is no local video (--video-source none)"};
    m.output.self_view = o.self_view;
  }
  if (!o.record.empty() && !ends_with(o.record, ".mkv") && !ends_with(o.record, ".webm"))
    return Error{ExitCode::Usage, "--record: '" + o.record + "' must end in .mkv or .webm"};
  m.output.record_path = o.record;
  if (!o.rtmp.empty() && o.rtmp.rfind("rtmp://", 0) != 0 && o.rtmp.rfind("rtmps://", 0) != 0)
    return Error{ExitCode::Usage, "--rtmp: '" + o.rtmp + "' is not an rtmp:// or rtmps:// URL"};
  m.output.rtmp_url = o.rtmp;
  m.dot_dir = o.dot_dir;
  m.latency_stamp = o.latency_probe;
  m.keep_last_frame = !o.snapshot.empty();
  return Ok{};
}

Status quality_options(const JoinOptions& o, call::SessionOptions& s) {
  auto si = parse_duration(o.stats_interval, "--stats-interval");
  if (!si) return si.error();
  if (si->count() > 0 && si->count() < 50)
    return Error{ExitCode::Usage, "--stats-interval: at least 50ms (or 0 for none)"};
  s.stats.interval = *si;
  s.stats.log_path = o.stats_log;
  s.media.frame_log = si->count() > 0;
  auto wu = parse_duration(o.warmup, "--warm-up");
  if (!wu) return wu.error();
  s.stats.warmup_s = static_cast<double>(wu->count()) / 1000.0;
  s.status_line = o.status;
  s.status_tty = isatty(STDERR_FILENO) != 0;
  if (!o.snapshot.empty() && !ends_with(o.snapshot, ".png"))
    return Error{ExitCode::Usage, "--snapshot: '" + o.snapshot + "' must end in .png"};
  s.snapshot_path = o.snapshot;
  if (!o.snapshot_every.empty()) {
    if (o.snapshot.empty()) return Error{ExitCode::Usage, "--snapshot-every needs --snapshot FILE.png"};
    auto d = parse_duration(o.snapshot_every, "--snapshot-every");
    if (!d) return d.error();
    if (d->count() < 100) return Error{ExitCode::Usage, "--snapshot-every: at least 100ms"};
    s.snapshot_every = *d;
  }
  if (!o.test_send_delay.empty()) {
    auto d = parse_duration(o.test_send_delay, "--test-send-delay");
    if (!d) return d.error();
    s.media.test_send_delay_ms = static_cast<unsigned>(d->count());
  }
  if (!o.test_freeze.empty()) {
    auto colon = o.test_freeze.find(':');
    if (colon == std::string::npos) return Error{ExitCode::Usage, "--test-freeze-at: use AT:FOR, e.g. 3s:2s"};
    auto at = parse_duration(o.test_freeze.substr(0, colon), "--test-freeze-at");
    if (!at) return at.error();
    auto len = parse_duration(o.test_freeze.substr(colon + 1), "--test-freeze-at");
    if (!len) return len.error();
    s.test_freeze = std::make_pair(*at, *len);
  }
  return Ok{};
}

Status lifetime_options(const JoinOptions& o, call::SessionOptions& s) {
  s.call.leave_when_alone = o.leave_when_alone;
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration, "--duration");
    if (!d) return d.error();
    s.call.duration = *d;
  }
  if (!o.wait_for_partner.empty()) {
    auto d = parse_duration(o.wait_for_partner, "--wait-for-partner");
    if (!d) return d.error();
    s.call.wait_for_partner = *d;
  }
  auto ct = parse_duration(o.connect_timeout, "--connect-timeout");
  if (!ct) return ct.error();
  s.call.connect_timeout = ct->count() > 0 ? std::optional(*ct) : std::nullopt;
  if (o.output_errors == "report")
    s.output_errors = call::OutputErrors::Report;
  else if (o.output_errors == "ignore")
    s.output_errors = call::OutputErrors::Ignore;
  else if (o.output_errors == "fail")
    s.output_errors = call::OutputErrors::Fail;
  else
    return Error{ExitCode::Usage, "--output-errors: '" + o.output_errors + "' is not report, ignore or fail"};
  return Ok{};
}

}  // namespace

std::string gst_stun_url(const std::string& stun) {
  if (stun.rfind("stun:", 0) == 0 && stun.rfind("stun://", 0) != 0) return "stun://" + stun.substr(5);
  return stun;
}

Result<call::SessionOptions> to_session_options(const JoinOptions& o) {
  call::SessionOptions s;
  if (!o.room.empty()) {
    auto t = signaling::parse_room_target(o.room, o.conn.server);
    if (!t) return t.error();
    s.signaling.base_url = t->base_url;
    s.signaling.room_id = t->room_id;
  } else if (o.conn.server.empty()) {
    return Error{ExitCode::Usage, "join --create needs --server URL"};
  }
  s.signaling.ca_file = o.conn.ca_file;
  s.signaling.insecure = o.conn.insecure;
  s.signaling.reconnect = o.reconnect;
  s.mute_audio = o.mute_audio;
  s.mute_video = o.mute_video;
  // A fixed order: with several bad values, the same one is reported each time.
  if (auto st = media_options(o, s.media); !st) return st.error();
  s.media.substitute_device_element = o.test_device_element;
  if (auto st = quality_options(o, s); !st) return st.error();
  if (auto st = lifetime_options(o, s); !st) return st.error();
  return s;
}

}  // namespace callagent::cli
