#pragma once
// One local source (camera, microphone, test pattern/tone, file) and its
// persistent encode chain, ending in a tee that each PeerConnection taps:
//
//   [source bin] -> convert/scale/rate -> capsfilter(preset) -> (mute)
//                -> encoder -> tee(allow-not-linked)
//
// A camera's source bin is device -> capsfilter(the mode chosen for the
// preset, media/camera_mode.h) -> (v4l2jpegdec or jpegdec, for MJPEG).
// A microphone (capture device, with audio processing on) gets webrtcdsp
// between the preset capsfilter and the Opus rate capsfilter; with echo
// cancellation when the engine plays audio back (AudioPlayback's
// webrtcechoprobe, passed by name).
//
// The source bin is the only replaceable part: a looping file source is
// rebuilt at EOS (with a pad offset so that timestamps continue) while the
// encoder, the tee and every peer's branch keep running. Video mute paints
// the raw frames black in place (timestamps untouched, the track stays
// alive and encodes to almost nothing); audio mute is volume mute=true.
//
// Owned by MediaEngine; lives in the engine's pipeline. Main thread only,
// except the pad probes (streaming threads), which touch only atomics.

#include "common/main_context.h"
#include "common/result.h"
#include "gst/gst_util.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace callagent::media {

class LocalSource {
 public:
  struct Events {
    // The source ended (a file without loop). Main context.
    std::function<void(MediaKind)> on_eos;
  };

  // Builds the source and its chain inside `pipeline` (not yet playing).
  // `echo_probe`: the name of the engine's webrtcechoprobe (AudioPlayback),
  // "" when nothing is played back; a microphone's webrtcdsp cancels the
  // echo of what that probe sees.
  static Result<std::unique_ptr<LocalSource>> create(GstBin* pipeline, MediaKind kind,
                                                     const MediaOptions& options, Events events,
                                                     std::string echo_probe = {});
  ~LocalSource();
  LocalSource(const LocalSource&) = delete;
  LocalSource& operator=(const LocalSource&) = delete;

  MediaKind kind() const { return kind_; }
  GstElement* tee() const { return tee_; }
  GstElement* encoder() const { return encoder_; }
  // RTP caps a payloader for this source produces, without payload type:
  // "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000".
  std::string rtp_caps() const;
  // Factory name of the payloader ("rtpvp8pay", "rtpopuspay", ...).
  const char* payloader_factory() const;
  const std::string& encoding_name() const { return encoding_name_; }

  void set_muted(bool muted);
  bool muted() const { return muted_.load(); }

  // GstForceKeyUnit events that reached the encoder from downstream (PLI/FIR
  // from receivers, new peers). Video only.
  uint64_t keyframe_requests() const { return keyframe_requests_.load(); }
  uint64_t buffers_encoded() const { return buffers_encoded_.load(); }

  // Asks the encoder for a keyframe (e.g. a new peer connected).
  void request_keyframe();

  // Test hook (--test-freeze-at): while paused, raw video frames are
  // dropped before the encoder, so partners see the picture stop.
  void set_paused(bool paused) { paused_ = paused; }

 private:
  LocalSource(GstBin* pipeline, MediaKind kind, const MediaOptions& options, Events events,
              std::string echo_probe);
  Status build();
  Result<GstElement*> make_source_bin();  // floating bin with a ghost "src" pad
  Result<GstElement*> make_device_element();
  // Brings a camera element to READY, reads its modes (or the device
  // monitor's caps), sets the mode chosen for the preset on `filter` and
  // appends a JPEG decoder for MJPEG. Returns the bin's last element.
  GstElement* select_camera_mode(GstBin* bin, GstElement* src, GstElement* filter);
  Result<GstElement*> make_file_bin();
  bool build_encoder_chain(GstElement* first_after_source);
  void on_file_eos();  // main context
  void restart_file();
  static GstPadProbeReturn on_mute_probe(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_source_caps_probe(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_file_output_probe(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_encoder_probe(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_stamp_probe(GstPad*, GstPadProbeInfo*, gpointer);

  GstBin* pipeline_;  // borrowed (the engine owns it and outlives us)
  MediaKind kind_;
  MediaOptions options_;
  Events events_;
  std::string echo_probe_;
  GMainContext* ctx_;
  Lifetime lifetime_ = make_lifetime();

  GstElement* source_bin_ = nullptr;   // owned by the pipeline
  GstElement* chain_input_ = nullptr;  // first element after the source bin
  GstElement* encoder_ = nullptr;
  GstElement* tee_ = nullptr;
  GstElement* volume_ = nullptr;
  std::string encoding_name_;
  // Camera only: its name for logs (read by on_source_caps_probe) and the
  // device monitor's caps (auto). Written before the pipeline runs.
  std::string device_name_;
  GUnique<GstCaps> device_caps_;
  std::atomic<bool> muted_{false};
  std::atomic<bool> logged_caps_{false};
  std::atomic<uint64_t> keyframe_requests_{0};
  std::atomic<uint64_t> buffers_encoded_{0};
  std::atomic<bool> eos_posted_{false};
  std::atomic<bool> paused_{false};
  int file_generation_ = 0;
};

}  // namespace callagent::media
