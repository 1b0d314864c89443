#include "media/receive_chain.h"

#include "common/gref.h"
#include "gst/gst_util.h"

#include <fmt/format.h>

namespace callagent::media {

std::unique_ptr<ReceiveChain> ReceiveChain::build(GstBin* bin, const CodecInfo& codec) {
  const std::string k(to_string(codec.kind));
  std::unique_ptr<ReceiveChain> c(new ReceiveChain(codec));
  GstElement* depay = make_element(codec.depayloader.name, nullptr);
  GstElement* enc_tee = make_element("tee", fmt::format("{}-received-tee", k).c_str());
  GstElement* q = make_element("queue", nullptr);
  GstElement* parse = codec.parser ? make_element(codec.parser.name, nullptr) : nullptr;
  GstElement* dec = make_element(codec.decoder.name, fmt::format("{}-decoder", k).c_str());
  GstElement* raw_tee = make_element("tee", fmt::format("{}-decoded-tee", k).c_str());
  if (!depay || !enc_tee || !q || !dec || !raw_tee) {
    for (GstElement* e : {depay, enc_tee, q, parse, dec, raw_tee})
      if (e) GRef<GstElement>::ref_sink(e).reset();
    return nullptr;
  }
  if (codec.kind == MediaKind::Video) {
    // Drop until a keyframe after an unrepaired loss. The depayloader's
    // own requests (a FIR on every gap, before retransmission had a chance)
    // are off: KeyframeRequests asks, rate limited, with PLI.
    set_if_exists(depay, "request-keyframe", false);
    set_if_exists(depay, "wait-for-keyframe", true);
    set_if_exists(dec, "max-errors", -1);  // a corrupt frame is not a fatal error
  } else {
    g_object_set(dec, "plc", TRUE, "use-inband-fec", TRUE, nullptr);
  }
  g_object_set(enc_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(raw_tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(bin, depay, enc_tee, q, dec, raw_tee, nullptr);
  if (parse) gst_bin_add(bin, parse);
  const bool ok = parse ? link_many({depay, enc_tee, q, parse, dec, raw_tee})
                        : link_many({depay, enc_tee, q, dec, raw_tee});
  if (!ok) return nullptr;
  c->depay_ = depay;
  c->received_tee_ = enc_tee;
  c->queue_ = q;
  c->parser_ = parse;
  c->decoder_ = dec;
  c->decoded_tee_ = raw_tee;
  return c;
}

bool ReceiveChain::start(GstPad* pad) {
  for (GstElement* e : {decoded_tee_, decoder_, parser_, queue_, received_tee_, depay_})
    if (e) gst_element_sync_state_with_parent(e);
  GRef<GstPad> sink = GRef<GstPad>::adopt(gst_element_get_static_pad(depay_, "sink"));
  return gst_pad_link(pad, sink.get()) == GST_PAD_LINK_OK;
}

void ReceiveChain::discard(GstBin* bin, GstPad* pad) {
  GstElement* sink = make_element("fakesink", nullptr);
  if (!sink) return;
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(bin, sink);
  gst_element_sync_state_with_parent(sink);
  GRef<GstPad> sp = GRef<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  gst_pad_link(pad, sp.get());
}

}  // namespace callagent::media
