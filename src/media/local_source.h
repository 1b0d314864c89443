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

#include "common/result.h"
#include "media/codec.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
  Status replace_source(const SourceSpec& spec);
  const SourceSpec& source() const;

  // Test hook (--test-freeze-at): while paused, raw video frames are
  // dropped before the encoder, so partners see the picture stop.
  void set_paused(bool paused);

 private:
  LocalSource(GstBin* pipeline, MediaKind kind, const MediaOptions& options, Events events,
              std::string echo_probe);
  Status build();
  Result<GstElement*> build_source();  // the source bin, in the pipeline
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
  GstElement* preset_caps_ = nullptr;  // video: the capsfilter "video-preset"
  GstElement* chain_front_ = nullptr;  // the chain's first element (the source links to it)
  std::map<int, RateWish> wishes_;
  int format_w_ = 0, format_h_ = 0, format_fps_ = 0;
  int loss_percentage_ = -1;
};

}  // namespace callagent::media
