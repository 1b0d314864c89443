#include "media/rtcp_feedback.h"

#include "common/logging.h"

#include <gst/rtp/rtp.h>

#include <algorithm>
#include <cstring>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

constexpr int64_t kNtpUnixOffsetS = 2208988800LL;  // 1900 -> 1970

// Payload-specific and transport-layer feedback formats (RFC 4585, 5104,
// draft-alvestrand-rmcat-remb, draft-holmer-rmcat-transport-wide-cc).
constexpr int kRtpfbNack = 1, kRtpfbTwcc = 15;
constexpr int kPsfbPli = 1, kPsfbFir = 4, kPsfbAfb = 15;
}  // namespace

RtcpFeedback::RtcpFeedback(int id, GstElement* webrtcbin, Events events)
    : id_(id), webrtcbin_(webrtcbin), events_(std::move(events)), ctx_(thread_default_context()) {}

RtcpFeedback::~RtcpFeedback() { detach(); }

void RtcpFeedback::detach() {
  rtcp_signal_.disconnect();
  session_.reset();
}

bool RtcpFeedback::attach() {
  if (session_) return true;
  if (!webrtcbin_ || !GST_IS_BIN(webrtcbin_)) return false;
  GRef<GstElement> rtpbin = GRef<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(webrtcbin_), "rtpbin"));
  if (!rtpbin) return false;
  GObject* session = nullptr;
  // Session 0: with max-bundle every stream is in it. Transfer full.
  g_signal_emit_by_name(rtpbin.get(), "get-internal-session", 0u, &session);
  if (!session) return false;
  session_ = GRef<GObject>::adopt(session);
  // The report timing is Retransmission's setting, made on the same
  // session.
  rtcp_signal_ = SignalConnection(session, "on-receiving-rtcp", G_CALLBACK(&RtcpFeedback::on_receiving_rtcp), this);
  log()->debug("peer{}: reading the partner's RTCP", id_);
  return true;
}

uint32_t RtcpFeedback::ntp_now_short() {
  const int64_t us = g_get_real_time();
  const uint64_t secs = static_cast<uint64_t>(us / 1'000'000 + kNtpUnixOffsetS);
  const uint64_t frac = (static_cast<uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return static_cast<uint32_t>(((secs & 0xffff) << 16) | (frac >> 16));
}

RtcpFeedback::Parsed RtcpFeedback::parse(GstBuffer* buffer, uint32_t ntp_now) {
  Parsed out;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READ, &rtcp)) return out;
  out.counts.compound = 1;
  GstRTCPPacket packet;
  for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    const GstRTCPType type = gst_rtcp_packet_get_type(&packet);
    if (type == GST_RTCP_TYPE_SR || type == GST_RTCP_TYPE_RR) {
      const uint32_t sender = type == GST_RTCP_TYPE_SR ? [&] {
        guint32 ssrc = 0;
        gst_rtcp_packet_sr_get_sender_info(&packet, &ssrc, nullptr, nullptr, nullptr, nullptr);
        return ssrc;
      }() : gst_rtcp_packet_rr_get_ssrc(&packet);
      const guint n = gst_rtcp_packet_get_rb_count(&packet);
      for (guint i = 0; i < n; ++i) {
        ReportBlock b;
        guint32 ssrc = 0, ehs = 0, jitter = 0, lsr = 0, dlsr = 0;
        guint8 fraction = 0;
        gint32 lost = 0;
        gst_rtcp_packet_get_rb(&packet, i, &ssrc, &fraction, &lost, &ehs, &jitter, &lsr, &dlsr);
        b.sender_ssrc = sender;
        b.ssrc = ssrc;
        b.fraction_lost = fraction / 256.0;
        b.packets_lost = lost;
        b.ext_highest_seq = ehs;
        b.jitter = jitter;
        if (lsr != 0) {
          // Modulo 2^32; a "negative" result (clock step, bogus block) says nothing.
          const uint32_t rtt = ntp_now - lsr - dlsr;
          const double ms = rtt * 1000.0 / 65536.0;
          if (rtt < 0x80000000u && ms < kMaxRttMs) b.rtt_ms = ms;
        }
        out.blocks.push_back(b);
        ++out.counts.report_blocks;
      }
    } else if (type == GST_RTCP_TYPE_RTPFB) {
      const int fmt = gst_rtcp_packet_fb_get_type(&packet);
      if (fmt == kRtpfbNack) ++out.counts.nack;
      if (fmt == kRtpfbTwcc) ++out.counts.transport_cc;
    } else if (type == GST_RTCP_TYPE_PSFB) {
      const int fmt = gst_rtcp_packet_fb_get_type(&packet);
      if (fmt == kPsfbPli) ++out.counts.pli;
      if (fmt == kPsfbFir) ++out.counts.fir;
      if (fmt != kPsfbAfb) continue;
      const guint words = gst_rtcp_packet_fb_get_fci_length(&packet);
      const guint8* fci = gst_rtcp_packet_fb_get_fci(&packet);
      if (!fci || words < 2 || std::memcmp(fci, "REMB", 4) != 0) continue;
      Remb r;
      r.sender_ssrc = gst_rtcp_packet_fb_get_sender_ssrc(&packet);
      const guint n = fci[4];
      const int exp = fci[5] >> 2;
      const uint64_t mantissa = (uint64_t{fci[5] & 0x3u} << 16) | (uint64_t{fci[6]} << 8) | fci[7];
      r.bps = exp > 40 ? INT64_MAX / 2 : static_cast<int64_t>(mantissa << exp);
      for (guint i = 0; i < n && 2 + i < words; ++i) {
        const guint8* p = fci + 8 + 4 * i;
        r.ssrcs.push_back((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]);
      }
      out.rembs.push_back(std::move(r));
      ++out.counts.remb;
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
  return out;
}

std::optional<double> RtcpFeedback::round_trip_ms(const std::vector<ReportBlock>& blocks) {
  std::optional<double> rtt;
  for (const auto& b : blocks)
    if (b.rtt_ms) rtt = std::max(rtt.value_or(0.0), *b.rtt_ms);
  return rtt;
}

void RtcpFeedback::on_receiving_rtcp(GObject*, GstBuffer* buffer, gpointer data) {
  // webrtcbin's receive thread.
  auto* self = static_cast<RtcpFeedback*>(data);
  const int64_t now_us = g_get_monotonic_time();
  Parsed p = parse(buffer, ntp_now_short());
  post(self->ctx_, self->lifetime_, [self, now_us, p = std::move(p)]() mutable { self->deliver(now_us, std::move(p)); });
}

void RtcpFeedback::deliver(int64_t now_us, Parsed p) {
  auto& c = counts_;
  c.compound += p.counts.compound;
  c.report_blocks += p.counts.report_blocks;
  c.remb += p.counts.remb;
  c.transport_cc += p.counts.transport_cc;
  c.nack += p.counts.nack;
  c.pli += p.counts.pli;
  c.fir += p.counts.fir;
  if (!logged_inputs_ && c.compound >= 10) {
    // Which inputs this partner gives the controller: once, after a few
    // reports (REMB and TWCC start with the media).
    logged_inputs_ = true;
    log()->info("peer{}: partner's RTCP: {} report blocks, {} REMB, {} transport-cc in {} packets", id_,
                c.report_blocks, c.remb, c.transport_cc, c.compound);
  }
  if (!p.blocks.empty() && events_.on_reports) events_.on_reports(now_us, p.blocks);
  for (const auto& r : p.rembs)
    if (events_.on_remb) events_.on_remb(now_us, r);
}

}  // namespace callagent::media
