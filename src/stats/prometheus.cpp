#include "stats/prometheus.h"

#include "common/prometheus_text.h"

#include <callagent_config.h>

namespace callagent::stats {

namespace {

using Type = PrometheusText::Type;

const StreamStats& stream(const Snapshot& s, bool video, bool in) {
  return video ? (in ? s.video_in : s.video_out) : (in ? s.audio_in : s.audio_out);
}

// A run's counter from the summary (0 before anything was counted).
double total(const Summary& sum, const std::string& metric) {
  auto it = sum.find(metric);
  if (it == sum.end() || !it->second.total) return 0;
  return *it->second.total;
}

// "video.in.packets", the metric catalog's names (metrics.h).
std::string fmt_metric(const char* kind, const char* direction, const char* what) {
  return std::string(kind) + "." + direction + "." + what;
}

}  // namespace

const std::vector<std::string>& call_states() {
  static const std::vector<std::string> s = {"idle", "alone", "negotiating", "connected", "hung-up", "leaving", "stopping", "finished"};
  return s;
}

std::string call_metrics_text(const CallFacts& f, const Snapshot* last, const CallData& data) {
  PrometheusText p;
  const Summary sum = summarize(data);

  p.family("callagent_build_info", Type::Gauge, "Always 1; the version of callagent in a label");
  p.sample(1, {{"version", CALLAGENT_VERSION}, {"command", "join"}});

  p.family("callagent_call_state", Type::Gauge, "1 for the call's current state, 0 for the others");
  for (const auto& s : call_states()) p.sample(s == f.state ? 1 : 0, {{"state", s}});
  p.gauge("callagent_partner_present", "1 while a partner is in the room", f.partner_present ? 1 : 0);
  p.gauge("callagent_signaling_connected", "1 while the signaling WebSocket is up and in the room",
          f.signaling_connected ? 1 : 0);
  p.counter("callagent_signaling_reconnects_total", "Signaling connections re-established after a drop",
            static_cast<double>(f.signaling_reconnects));
  p.counter("callagent_partner_connections_total", "Peer connections that reached the connected state",
            static_cast<double>(f.partner_connections));

  // Gauges of the latest interval; a stream that does not exist has no sample.
  p.family("callagent_bitrate_bits_per_second", Type::Gauge, "RTP bit rate over the last stats interval");
  if (last)
    for (bool video : {true, false})
      for (bool in : {true, false})
        if (const auto& st = stream(*last, video, in); st.active)
          p.sample(st.bitrate, {{"direction", in ? "in" : "out"}, {"kind", video ? "video" : "audio"}});
  p.family("callagent_video_frames_per_second", Type::Gauge,
           "Video frames per second over the last interval (in: decoded, out: sent)");
  if (last)
    for (bool in : {true, false})
      if (const auto& st = stream(*last, true, in); st.active) p.sample(st.fps, {{"direction", in ? "in" : "out"}});
  p.family("callagent_packet_loss_ratio", Type::Gauge,
           "Packets lost over the last interval, 0..1 (in: ours; out: as the partner reports it)");
  if (last)
    for (bool video : {true, false})
      for (bool in : {true, false})
        if (const auto& st = stream(*last, video, in); st.active && st.loss_pct)
          p.sample(*st.loss_pct / 100.0, {{"direction", in ? "in" : "out"}, {"kind", video ? "video" : "audio"}});
  p.family("callagent_jitter_seconds", Type::Gauge,
           "RTP interarrival jitter (in: ours; out: as the partner reports it)");
  if (last)
    for (bool video : {true, false})
      for (bool in : {true, false})
        if (const auto& st = stream(*last, video, in); st.active && st.jitter_ms)
          p.sample(*st.jitter_ms / 1000.0, {{"direction", in ? "in" : "out"}, {"kind", video ? "video" : "audio"}});
  p.family("callagent_rtt_seconds", Type::Gauge, "Round-trip time to the partner from RTCP");
  if (last && last->rtt_ms) p.sample(*last->rtt_ms / 1000.0);
  p.family("callagent_jitter_buffer_seconds", Type::Gauge, "Latency of the receive jitter buffers");
  if (last && last->recovery.jitter_buffer_ms) p.sample(*last->recovery.jitter_buffer_ms / 1000.0);

  // Counters over the whole run (every partner visit).
  p.family("callagent_packets_total", Type::Counter, "RTP packets received (in) and sent (out)");
  for (const char* k : {"video", "audio"})
    for (const char* d : {"in", "out"})
      p.sample(total(sum, fmt_metric(k, d, "packets")), {{"direction", d}, {"kind", k}});
  p.family("callagent_packets_lost_total", Type::Counter,
           "RTP packets lost on the network (in: ours; out: as the partner reports it), before repair");
  for (const char* k : {"video", "audio"})
    for (const char* d : {"in", "out"})
      p.sample(total(sum, fmt_metric(k, d, "packets_lost")), {{"direction", d}, {"kind", k}});
  p.family("callagent_nack_total", Type::Counter,
           "Retransmission requests (NACK) for video: in = we sent them, out = the partner sent them to us");
  for (const char* d : {"in", "out"}) p.sample(total(sum, fmt_metric("video", d, "nack")), {{"direction", d}});
  p.family("callagent_pli_total", Type::Counter,
           "Keyframe requests (PLI) for video: in = we sent them, out = the partner sent them to us");
  for (const char* d : {"in", "out"}) p.sample(total(sum, fmt_metric("video", d, "pli")), {{"direction", d}});
  p.counter("callagent_rtx_recovered_packets_total", "Video packets a retransmission brought back in time",
            total(sum, "recovery.rtx_recovered"));
  p.counter("callagent_rtx_refused_total",
            "The partner's retransmission requests we dropped over our budget (half the video target)",
            total(sum, "recovery.rtx_refused"));
  p.counter("callagent_unrecovered_packets_total", "Video packets given up for lost after retransmission",
            total(sum, "recovery.lost_after_recovery"));
  p.family("callagent_video_frames_total", Type::Counter, "Video frames decoded (in) and sent (out)");
  p.sample(total(sum, "video.in.frames_decoded"), {{"direction", "in"}});
  p.sample(total(sum, "video.out.frames_sent"), {{"direction", "out"}});
  p.counter("callagent_video_freezes_total", "Freezes of the received video", total(sum, "video.in.freezes"));
  p.counter("callagent_video_freeze_seconds_total", "Time the received video was frozen",
            total(sum, "video.in.freeze_time") / 1000.0);

  // The sender's congestion control towards the current partner.
  p.family("callagent_congestion_target_bits_per_second", Type::Gauge,
           "The congestion controller's estimate for everything sent to the partner");
  if (last && last->congestion) p.sample(static_cast<double>(last->congestion->target_bps));
  p.family("callagent_encoder_target_bits_per_second", Type::Gauge,
           "The bit rate the congestion controller set on the encoders");
  if (last && last->congestion) {
    p.sample(static_cast<double>(last->congestion->video_bps), {{"kind", "video"}});
    p.sample(static_cast<double>(last->congestion->audio_bps), {{"kind", "audio"}});
  }

  p.counter("callagent_recording_files_total", "Recording files this run has started",
            static_cast<double>(f.recording_files));
  p.gauge("callagent_recording_bytes", "Size on disk of this run's recordings",
          static_cast<double>(f.recording_bytes));
  return p.text();
}

}  // namespace callagent::stats
