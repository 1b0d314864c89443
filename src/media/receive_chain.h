#pragma once
// The partner's media of one kind, from a webrtcbin src pad to decoded
// frames (no decodebin: its autoplugging at pad-added time is too slow for
// the first packets and it cannot be told to keep the depayloaded stream):
//
//   webrtcbin src ─> depayloader ─> tee "<kind>-received-tee" ─> queue
//                        [─> parser] ─> decoder "<kind>-decoder" ─> tee "<kind>-decoded-tee"
//
// The received tee feeds the recording (no re-encoding), the decoded tee
// the display, the playback mixer, RTMP or a fakesink (PeerOutputs); the
// probes (ReceiveProbes) sit on the depayloader's and decoder's pads.
// Build order, all on the streaming thread of webrtcbin's pad-added:
// build() adds and links the chain, the outputs and probes attach, then
// start() brings the elements up downstream first and links the pad.
//
// Which depayloader, parser and decoder a codec needs comes from the codec
// table (media/codec.h).
//
// Owned by PeerConnection (one per received kind); its elements belong to
// the peer's bin.

#include "media/codec.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <memory>
#include <string>
#include <string_view>

namespace callagent::media {

class ReceiveChain {
 public:
  // Adds and links the chain for `codec` in `bin`; nullptr (logged) when an
  // element is missing or will not link.
  static std::unique_ptr<ReceiveChain> build(GstBin* bin, const CodecInfo& codec);
  // Syncs the chain's elements with the bin (downstream first) and links
  // `pad` (a webrtcbin src pad) to the depayloader.
  bool start(GstPad* pad);
  // Links a pad nobody wants to a fakesink: an unlinked webrtcbin pad would
  // fail the whole receive path.
  static void discard(GstBin* bin, GstPad* pad);

  const CodecInfo& codec() const { return codec_; }
  GstElement* depayloader() const { return depay_; }
  GstElement* decoder() const { return decoder_; }
  GstElement* received_tee() const { return received_tee_; }
  GstElement* decoded_tee() const { return decoded_tee_; }

 private:
  explicit ReceiveChain(const CodecInfo& codec) : codec_(codec) {}
  const CodecInfo& codec_;
  // All in the peer's bin, which owns them (borrowed).
  GstElement* depay_ = nullptr;
  GstElement* received_tee_ = nullptr;
  GstElement* queue_ = nullptr;
  GstElement* parser_ = nullptr;
  GstElement* decoder_ = nullptr;
  GstElement* decoded_tee_ = nullptr;
};

}  // namespace callagent::media
