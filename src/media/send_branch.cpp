#include "media/send_branch.h"

#include "common/logging.h"
#include "gst/gst_util.h"
#include "media/header_extensions.h"
#include "media/local_source.h"

#include <fmt/format.h>
#include <gst/webrtc/webrtc.h>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

bool has_property(gpointer obj, const char* name) {
  return g_object_class_find_property(G_OBJECT_GET_CLASS(obj), name) != nullptr;
}
}  // namespace

std::unique_ptr<SendBranch> SendBranch::create(int peer_id, GstBin* bin, GstElement* webrtc,
                                               LocalSource* src, int pt, std::optional<int> mline,
                                               int twcc_id) {
  const bool video = src->kind() == MediaKind::Video;
  const std::string k(to_string(src->kind()));
  std::unique_ptr<SendBranch> b(new SendBranch(peer_id, src));
  GstElement* q = make_element("queue", nullptr);
  GstElement* pay = make_element(src->payloader_factory(), nullptr);
  if (!q || !pay) {
    for (GstElement* e : {q, pay})
      if (e) GRef<GstElement>::ref_sink(e).reset();
    return nullptr;
  }
  // A slow or blocked peer (webrtcbin blocks its sink pads until negotiated)
  // must never stall the shared encoder: drop old data instead.
  g_object_set(q, "max-size-buffers", 30u, "max-size-bytes", 0u, "max-size-time",
               G_GUINT64_CONSTANT(300000000), nullptr);
  gst_util_set_object_arg(G_OBJECT(q), "leaky", "downstream");
  // Browsers bind a receiver's track to the SSRC the SDP announces: packets
  // with another SSRC are decoded (getStats counts frames) but never reach
  // the page's <video>. webrtcbin announces the `ssrc` of the transceiver's
  // codec preferences (or a random one when they have none), and the
  // payloader would pick its own: give both the same.
  const guint ssrc = g_random_int();
  g_object_set(pay, "pt", static_cast<guint>(pt), "mtu", 1200u, "ssrc", ssrc, nullptr);
  if (video && has_property(pay, "picture-id-mode"))
    gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
  if (has_property(pay, "config-interval")) g_object_set(pay, "config-interval", -1, nullptr);
  if (twcc_id > 0) add_twcc_extension(pay, twcc_id, peer_id);
  gst_bin_add_many(bin, q, pay, nullptr);
  gst_element_link(q, pay);
  b->payloader_ = GRef<GstElement>::ref(pay);

  GRef<GstPad> wpad;
  if (mline) {
    GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc), "sink_%u");
    wpad = GRef<GstPad>::adopt(
        gst_element_request_pad(webrtc, templ, fmt::format("sink_{}", *mline).c_str(), nullptr));
  } else {
    wpad = GRef<GstPad>::adopt(gst_element_request_pad_simple(webrtc, "sink_%u"));
  }
  if (!wpad) {
    log()->error("peer{}: webrtcbin gave no sink pad for {}", peer_id, k);
    return nullptr;
  }
  GstWebRTCRTPTransceiver* t = nullptr;
  g_object_get(wpad.get(), "transceiver", &t, nullptr);  // transfer full
  if (auto trans = GRef<GstWebRTCRTPTransceiver>::adopt(t)) {
    GUnique<GstCaps> caps(gst_caps_from_string(
        fmt::format("{},payload={},ssrc=(uint){}", src->rtp_caps(), pt, ssrc).c_str()));
    if (twcc_id > 0) add_twcc_extmap(caps.get(), twcc_id);
    g_object_set(trans.get(), "codec-preferences", caps.get(), "direction",
                 GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, nullptr);
    if (video && has_property(trans.get(), "do-nack")) g_object_set(trans.get(), "do-nack", TRUE, nullptr);
  }
  GRef<GstPad> paysrc = GRef<GstPad>::adopt(gst_element_get_static_pad(pay, "src"));
  if (gst_pad_link(paysrc.get(), wpad.get()) != GST_PAD_LINK_OK) {
    log()->error("peer{}: cannot link the {} payloader to webrtcbin", peer_id, k);
    return nullptr;
  }
  GRef<GstPad> qsink = GRef<GstPad>::adopt(gst_element_get_static_pad(q, "sink"));
  GstPad* ghost = gst_ghost_pad_new(fmt::format("{}_in", k).c_str(), qsink.get());
  b->ghost_ = GRef<GstPad>::ref(ghost);  // before the bin sinks the floating reference
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(GST_ELEMENT(bin), ghost);
  gst_element_sync_state_with_parent(pay);
  gst_element_sync_state_with_parent(q);

  if (video) {
    // The tee is linked when the connection is up (connect()); drop delta
    // frames until the keyframe requested then, so that a receiver's first
    // frame decodes.
    gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo* info, gpointer) {
                        GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
                        if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
                          return GST_PAD_PROBE_DROP;
                        return GST_PAD_PROBE_REMOVE;
                      },
                      nullptr, nullptr);
    // Counted here, once the branch is complete: the probe borrows `b`,
    // which the endpoint keeps until the bin is in NULL.
    GRef<GstPad> ps = GRef<GstPad>::adopt(gst_element_get_static_pad(pay, "sink"));
    gst_pad_add_probe(ps.get(), GST_PAD_PROBE_TYPE_BUFFER,
                      +[](GstPad*, GstPadProbeInfo*, gpointer d) {
                        static_cast<SendBranch*>(d)->frames_sent_.fetch_add(1, std::memory_order_relaxed);
                        return GST_PAD_PROBE_OK;
                      },
                      b.get(), nullptr);
  }
  log()->debug("peer{}: sending {} as {} pt {}{}", peer_id, k, src->encoding_name(), pt,
               mline ? fmt::format(" on m-line {}", *mline) : "");
  return b;
}

SendBranch::~SendBranch() { disconnect(); }

MediaKind SendBranch::kind() const { return source_->kind(); }

void SendBranch::connect() {
  if (tee_pad_) return;
  tee_pad_ = GRef<GstPad>::adopt(gst_element_request_pad_simple(source_->tee(), "src_%u"));
  if (!tee_pad_ || gst_pad_link(tee_pad_.get(), ghost_.get()) != GST_PAD_LINK_OK)
    log()->error("peer{}: cannot link the {} tee", peer_id_, to_string(source_->kind()));
}

void SendBranch::disconnect() {
  if (!tee_pad_) return;
  gst_pad_unlink(tee_pad_.get(), ghost_.get());
  gst_element_release_request_pad(source_->tee(), tee_pad_.get());
  tee_pad_.reset();
}

uint32_t SendBranch::ssrc() const {
  GRef<GstPad> ps = GRef<GstPad>::adopt(gst_element_get_static_pad(payloader_.get(), "src"));
  GUnique<GstCaps> caps(ps ? gst_pad_get_current_caps(ps.get()) : nullptr);
  guint ssrc = 0;
  if (caps) gst_structure_get_uint(gst_caps_get_structure(caps.get(), 0), "ssrc", &ssrc);
  return ssrc;
}

}  // namespace callagent::media
