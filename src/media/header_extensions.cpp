#include "media/header_extensions.h"

#include "common/gref.h"
#include "common/logging.h"

#include <fmt/format.h>
#include <gst/rtp/rtp.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }
}  // namespace

std::optional<int> twcc_id(const signaling::Sdp& sdp) {
  for (const auto& m : sdp.media) {
    if (m.rejected) continue;
    if (auto id = m.extmap_id(kTwccUri)) return id;
  }
  return std::nullopt;
}

bool add_twcc_extension(GstElement* payloader, int id, int peer_id) {
  if (!g_signal_lookup("add-extension", G_OBJECT_TYPE(payloader))) {
    log()->warn("peer{}: {} cannot write RTP header extensions: no transport-wide congestion feedback", peer_id,
                GST_OBJECT_NAME(payloader));
    return false;
  }
  // Ours until add-extension, which takes its own reference.
  auto ext = GRef<GstRTPHeaderExtension>::adopt(gst_rtp_header_extension_create_from_uri(kTwccUri));
  if (!ext) {
    log()->warn("peer{}: no GStreamer implementation of {} (gstreamer1.0-plugins-good)", peer_id, kTwccUri);
    return false;
  }
  gst_rtp_header_extension_set_id(ext.get(), static_cast<guint>(id));
  g_signal_emit_by_name(payloader, "add-extension", ext.get());
  return true;
}

void add_twcc_extmap(GstCaps* caps, int id) {
  const std::string field = fmt::format("extmap-{}", id);
  // webrtcbin was seen adding the rtcp-fb itself for video; a browser
  // numbers its audio packets only when the audio codec has it too.
  for (guint i = 0; i < gst_caps_get_size(caps); ++i)
    gst_structure_set(gst_caps_get_structure(caps, i), field.c_str(), G_TYPE_STRING, kTwccUri,
                      "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE, nullptr);
}

}  // namespace callagent::media
