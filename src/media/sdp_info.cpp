#include "media/sdp_info.h"

#include "media/gst_util.h"

#include <gst/sdp/sdp.h>

#include <sstream>

namespace callagent::media {

const SdpMedia* SdpInfo::find_kind(std::string_view kind) const {
  for (const auto& m : media)
    if (m.kind == kind && !m.rejected) return &m;
  return nullptr;
}

std::optional<int> SdpInfo::mline_for_mid(std::string_view mid) const {
  for (const auto& m : media)
    if (m.mid == mid) return m.index;
  return std::nullopt;
}

std::optional<SdpInfo> parse_sdp_info(const std::string& sdp_text) {
  GstSDPMessage* raw = nullptr;
  if (gst_sdp_message_new_from_text(sdp_text.c_str(), &raw) != GST_SDP_OK || !raw)
    return std::nullopt;
  GUnique<GstSDPMessage> msg(raw);
  if (gst_sdp_message_medias_len(msg.get()) == 0) return std::nullopt;
  // Session-level direction applies when a media has none.
  std::string session_dir = "sendrecv";
  for (const char* d : {"sendonly", "recvonly", "inactive", "sendrecv"})
    if (gst_sdp_message_get_attribute_val(msg.get(), d)) session_dir = d;

  SdpInfo info;
  for (guint i = 0; i < gst_sdp_message_medias_len(msg.get()); ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(msg.get(), i);
    SdpMedia sm;
    sm.index = static_cast<int>(i);
    sm.kind = gst_sdp_media_get_media(m) ? gst_sdp_media_get_media(m) : "";
    // Port 0 rejects an m-line, unless it is bundle-only (max-bundle offers).
    sm.rejected = gst_sdp_media_get_port(m) == 0 &&
                  !gst_sdp_media_get_attribute_val(m, "bundle-only");
    if (const char* mid = gst_sdp_media_get_attribute_val(m, "mid")) sm.mid = mid;
    std::string dir = session_dir;
    for (const char* d : {"sendonly", "recvonly", "inactive", "sendrecv"})
      if (gst_sdp_media_get_attribute_val(m, d)) dir = d;
    sm.remote_sends = dir == "sendrecv" || dir == "sendonly";
    sm.remote_receives = dir == "sendrecv" || dir == "recvonly";
    for (guint f = 0; f < gst_sdp_media_formats_len(m); ++f) {
      int pt = atoi(gst_sdp_media_get_format(m, f));
      GstCaps* caps = gst_sdp_media_get_caps_from_media(m, pt);
      if (!caps) continue;
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      if (const char* enc = gst_structure_get_string(s, "encoding-name")) {
        std::string name(enc);
        for (auto& c : name) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
        bool usable = true;
        if (name == "H264") {
          // Browsers offer several H.264 variants; take packetization-mode=1.
          const char* pm = gst_structure_get_string(s, "packetization-mode");
          usable = pm && std::string(pm) == "1";
        }
        if (usable) sm.payload_types.emplace(name, pt);
      }
      gst_caps_unref(caps);
    }
    info.media.push_back(std::move(sm));
  }
  return info;
}

std::string sanitize_candidate(std::string_view candidate) {
  std::istringstream in{std::string(candidate)};
  std::vector<std::string> t;
  for (std::string w; in >> w;) t.push_back(w);
  // candidate:F component transport priority address port typ TYPE
  if (t.size() < 8 || t[0].rfind("candidate:", 0) != 0 || t[6] != "typ") return {};
  std::string out;
  for (size_t i = 0; i < 8; ++i) out += (i ? " " : "") + t[i];
  for (size_t i = 8; i + 1 < t.size(); i += 2) {
    if (t[i] == "raddr" || t[i] == "rport" || t[i] == "tcptype") out += " " + t[i] + " " + t[i + 1];
  }
  return out;
}

std::string candidate_address(std::string_view candidate) {
  std::istringstream in{std::string(candidate)};
  std::vector<std::string> t;
  for (std::string w; in >> w;) t.push_back(w);
  return t.size() >= 5 ? t[4] : std::string();
}

}  // namespace callagent::media
