#pragma once
// One local source (camera, microphone, test pattern/tone, file) and its
// persistent encode chain, ending in a tee that each PeerConnection taps:
//
//   [source bin] -> convert/scale/rate -> capsfilter(preset) -> (mute)
//                -> encoder -> tee(allow-not-linked)
//
// A facade over the parts, each in its own file:
//   CaptureSource    test source or capture device, camera mode (source bin)
//   FileSource       a file played as a live source, looping (source bin)
//   AudioProcessing  webrtcdsp and echo cancellation (microphones)
//   MuteControl      black frames / volume mute
//   SentFrameProbe   the latency stamp and the test-only pause (video)
//   Encoder          the codec table's encoder for the preset, its counters
//                    and keyframe requests (media/codec.h)
//
// The source bin is the only replaceable part: a looping file source is
// rebuilt at EOS while the encoder, the tee and every peer's branch keep
// running.
//
// Owned by MediaEngine; lives in the engine's pipeline, which owns the
// elements and goes to NULL before this object is destroyed. Main thread
// only, except the parts' pad probes (streaming threads), which touch only
// atomics and fields written before the pipeline runs.

#include "common/backoff.h"
#include "common/main_context.h"
#include "common/result.h"
#include "media/codec.h"
#include "media/media_options.h"
#include "media/pad_probe.h"

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace callagent::media {

class AudioProcessing;
class CaptureSource;
class ElementChain;
class Encoder;
class FileSource;
class MuteControl;
class SentFrameProbe;

class LocalSource {
 public:
  struct Events {
    // The source ended (a file without loop). Main context.
    std::function<void(MediaKind)> on_eos;
    // A capture device failed mid-call and the stand-in (the slate,
    // silence) took its place (`lost` true; `why`: the device's error), or
    // it works again (`lost` false). `device`: its spec. Main context.
    std::function<void(MediaKind, bool lost, const std::string& device, const std::string& why)> on_device;
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
  // The raw video before the encoder (video, with --self-view; else nullptr).
  GstElement* raw_tee() const { return raw_tee_; }
  GstElement* encoder() const;
  // The codec sent (the codec table's entry: payloader, RTP caps, ...).
  const CodecInfo& codec() const { return codec_; }
  // RTP caps a payloader for this source produces, without payload type:
  // "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000".
  std::string rtp_caps() const { return media::rtp_caps(codec_); }
  // Factory name of the payloader ("rtpvp8pay", "rtpopuspay", ...).
  const char* payloader_factory() const { return codec_.payloader.name; }
  const std::string& encoding_name() const { return encoding_name_; }

  void set_muted(bool muted);
  bool muted() const;

  // GstForceKeyUnit events that reached the encoder from downstream (PLI/FIR
  // from receivers, new peers). Video only.
  uint64_t keyframe_requests() const;
  uint64_t keyframes_forced() const;  // for those requests, rate limited
  uint64_t buffers_encoded() const;
  uint64_t buffers_to_encoder() const;  // given to it (the difference: frames it dropped)

  // Asks the encoder for a keyframe (e.g. a new peer connected).
  void request_keyframe();

  // Congestion control (media/rate_controller.h): each partner's
  // controller asks for what its path carries; the source is shared, so
  // the encoder gets the smallest bitrate and format asked and the largest
  // FEC share (the worst path decides). `owner` is the peer id; release()
  // forgets its wishes (the peer left) and re-applies the others'.
  struct RateWish {
    int64_t bitrate_bps = 0;  // 0: no wish
    int width = 0, height = 0, fps = 0;  // video; 0: the preset
    int loss_percentage = -1;           // Opus FEC; -1: no wish
  };
  void set_rate_wish(int owner, const RateWish& wish);
  void release_rate_wish(int owner);
  // What the encoder is set to now: bit/s, and the sent video format
  // (the preset's until a wish changed it).
  int64_t bitrate() const;
  int video_width() const { return format_w_; }
  int video_height() const { return format_h_; }
  int video_fps() const { return format_fps_; }

  // The presets changed mid-call (the control socket's `set`): the video
  // size, frame rate and bitrate, or the audio bitrate. The capsfilter and
  // the encoder follow at once; wishes above the new preset are held to it
  // (a controller's own update follows, RateController::on_presets_changed).
  void set_video_preset(const VideoPreset& p);
  void set_audio_bitrate(int kbps);

  // Another source mid-call (the control socket's `source`): the new
  // source bin is built first (an error leaves the old one playing), then
  // takes the old one's place in front of the encode chain, which keeps
  // running (no new encoder, no renegotiation; the partner decodes across
  // it). Not for Type::None: mute stops sending.
  // A device being recovered (below) is given up for `spec`.
  Status replace_source(const SourceSpec& spec);
  const SourceSpec& source() const;

  // A lost device (a camera unplugged or reset, a microphone gone) does not
  // end the call. The engine hands us the pipeline's errors from our
  // source bin (owns_source); for a capture device that was playing,
  // on_source_error() puts the stand-in in its place (the slate /
  // silence: the encoder, the tee and every partner's branch keep running,
  // the partner reads "camera unavailable", not a frozen picture) and tries the device
  // again after 1 s, 2 s, 4 s ... up to 10 s (and at once when
  // device_added() says a device of our kind appeared: the engine's device
  // monitor). A device that then runs kProbationMs without an error is
  // back (Events::on_device both times). Returns false when the error is
  // not one to survive (a test or file source, the stand-in itself, or a
  // device that never delivered a buffer: bad input fails, with its
  // message, as at start).
  //
  //   Playing --error--> Lost (stand-in) --retry--> Trying --kProbationMs--> Playing
  //                         ^                          |
  //                         +---------error------------+
  bool owns_source(GstObject* obj) const;
  bool on_source_error(const std::string& what);
  void device_added();
  bool device_lost() const { return lost_.has_value(); }
  static constexpr std::chrono::milliseconds kProbationMs{3000};
  static constexpr std::chrono::milliseconds kRetryMinMs{1000}, kRetryMaxMs{10000};

  // Test hook (--test-freeze-at): while paused, raw video frames are
  // dropped before the encoder, so partners see the picture stop.
  void set_paused(bool paused);

 private:
  LocalSource(GstBin* pipeline, MediaKind kind, const MediaOptions& options, Events events,
              std::string echo_probe);
  Status build();
  Result<GstElement*> build_source();  // the source bin, in the pipeline
  Status swap_source(const SourceSpec& spec);  // replace_source() without touching the recovery
  static GstPadProbeReturn on_segment(GstPad*, GstPadProbeInfo* info, gpointer self);
  void retry_device();
  void back_to_standin(const std::string& why);
  Status build_video_chain(ElementChain& chain);
  Status build_audio_chain(ElementChain& chain);
  void apply_rate_wishes();

  GstBin* pipeline_;  // borrowed (the engine owns it and outlives us)
  MediaKind kind_;
  MediaOptions options_;
  Events events_;
  std::string echo_probe_;
  const CodecInfo& codec_;
  std::string encoding_name_;

  // One of the two source bins.
  std::unique_ptr<CaptureSource> capture_;
  std::unique_ptr<FileSource> file_;
  std::unique_ptr<AudioProcessing> processing_;  // microphones only
  std::unique_ptr<MuteControl> mute_;
  std::unique_ptr<SentFrameProbe> sent_probe_;   // video only
  std::unique_ptr<Encoder> encoder_;
  GstElement* tee_ = nullptr;  // owned by the pipeline
  GstElement* raw_tee_ = nullptr;  // owned by the pipeline
  GstElement* preset_caps_ = nullptr;  // video: the capsfilter "video-preset"
  GstElement* chain_front_ = nullptr;  // the chain's first element (the source links to it)
  std::map<int, RateWish> wishes_;
  int format_w_ = 0, format_h_ = 0, format_fps_ = 0;
  int loss_percentage_ = -1;
  // Recovery of a lost device (above): what the user asked for, while the
  // stand-in or a retry plays.
  std::optional<SourceSpec> lost_;
  bool trying_ = false;  // the device is playing again, on probation
  Backoff retry_backoff_{kRetryMinMs, kRetryMaxMs};
  Timeout retry_timer_, probation_timer_;
  // The chain's sink: the segment it has (the sources' streaming threads,
  // one at a time: a replaced bin is stopped before the next one links).
  PadProbe segment_probe_;
  GstSegment segment_{};
  bool have_segment_ = false;
};

}  // namespace callagent::media
