#pragma once
// What the media engine is asked to do: sources, presets, codec, ICE,
// outputs. Plain values, parsed from the command line by the CLI (the
// parse_* helpers return an Error with ExitCode::Usage naming the bad value).
//
// Defaults are the engine's defaults; the CLI passes its own (e.g. the
// default STUN server) explicitly.

#include "common/result.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::media {

enum class MediaKind { Audio, Video };
std::string_view to_string(MediaKind k);

// ---- presets --------------------------------------------------------------

struct VideoPreset {
  int width = 1280;
  int height = 720;
  int fps = 30;
  // Encoder target, derived from the size and rate unless set explicitly.
  int bitrate_kbps = 0;
  int effective_bitrate_kbps() const;
};
// An explicit video bitrate (--video-bitrate, the control socket's `set`).
constexpr int kMinVideoBitrateKbps = 50, kMaxVideoBitrateKbps = 50000;
// "4k" | "1080p" | "720p" | "480p" (also "360p" for tests); fps 60|30|24.
Result<VideoPreset> parse_video_preset(std::string_view size, int fps);

struct AudioPreset {
  int rate = 48000;
  int channels = 2;
  int bitrate_kbps = 128;
};
// "high" (48 kHz stereo, 128 kbps) | "medium" (44.1 kHz stereo, 96 kbps) |
// "low" (32 kHz mono, 32 kbps). The rate is what we ask of the capture
// device; Opus itself always runs at 48 kHz.
Result<AudioPreset> parse_audio_preset(std::string_view name);

// ---- sources ----------------------------------------------------------------

struct SourceSpec {
  enum class Type { None, Test, V4l2, File, Alsa, Pulse, Auto };
  Type type = Type::Test;
  std::string device;  // v4l2/alsa/pulse device, or the file path for File
  bool loop = false;   // File: restart at EOS instead of ending the call
  // Test only: the slate (media/slate.h) / silence, what a capture device that failed
  // mid-call is replaced by until it works again (LocalSource).
  bool standin = false;
  // True for sources that capture a room (camera, microphone): these get
  // audio processing (webrtcdsp) and Opus audio-type=voice.
  bool is_capture_device() const {
    return type == Type::V4l2 || type == Type::Alsa || type == Type::Pulse || type == Type::Auto;
  }
};
// video: "test" | "v4l2[:DEVICE]" | "file:PATH" | "auto" | "none"
// audio: "test" | "alsa[:DEVICE]" | "pulse[:DEVICE]" | "file:PATH" | "auto" | "none"
// A file spec may end with ",loop" ("file:/x.mp4,loop").
Result<SourceSpec> parse_source_spec(std::string_view spec, MediaKind kind);
std::string to_string(const SourceSpec& s);

enum class VideoCodec { VP8, VP9, H264 };
Result<VideoCodec> parse_video_codec(std::string_view name);
std::string_view to_string(VideoCodec c);

// ---- ICE --------------------------------------------------------------------

struct IceOptions {
  std::string stun_url;                 // "stun://host:port"; empty = none
  std::vector<std::string> turn_urls;   // "turn(s)://user:pass@host:port"
  // When non-empty, libnice gathers only on these addresses (emitted as
  // add-local-ip-address before set-local-description). Required in a
  // network namespace that has only lo, where libnice otherwise gathers
  // nothing and never completes (docs/measurements.md), and the way tests
  // keep ICE on 127.0.0.1.
  std::vector<std::string> local_addresses;
  bool tcp = true;
  bool udp = true;
  // webrtcbin's ice-transport-policy: All uses every candidate; Relay only
  // relayed ones (through --turn), so no packet goes straight to the
  // partner -- the W3C iceTransportPolicy "relay", and how a test proves
  // that a relay path works.
  enum class TransportPolicy { All, Relay };
  TransportPolicy transport_policy = TransportPolicy::All;
};
// "all" | "relay"
Result<IceOptions::TransportPolicy> parse_ice_transport_policy(std::string_view name);
std::string_view to_string(IceOptions::TransportPolicy p);

// ---- outputs (what happens to the remote media) -----------------------------

struct OutputOptions {
  // Matroska/WebM recording of the remote VP8/Opus without re-encoding.
  // The first partner goes to this path, the second to FILE-2.mkv, ...
  std::string record_path;
  // RTMP restream (H.264 + AAC in FLV), e.g. "rtmp://host/live/key".
  std::string rtmp_url;
  // Display: empty = no display; "auto" = autovideosink; else an element
  // factory name (kmssink, xvimagesink, ...).
  std::string video_sink;
  // Audio playback: empty = none; "auto" = autoaudiosink; else a factory name.
  std::string audio_sink;
  bool fullscreen = true;  // where the display sink supports it
  // The local video in a corner of the screen ("" = off; "top-left",
  // "top-right", "bottom-left", "bottom-right"): media/self_view.h.
  std::string self_view;
};

struct MediaOptions {
  SourceSpec video_source{SourceSpec::Type::Test, {}, false};
  SourceSpec audio_source{SourceSpec::Type::Test, {}, false};
  VideoPreset video;
  AudioPreset audio;
  VideoCodec codec = VideoCodec::VP8;
  bool audio_processing = true;  // webrtcdsp on real microphones
  // With audio_processing: cancel the echo of what the engine plays back
  // (needs output.audio_sink). Off for headsets and speakerphones that
  // cancel echo themselves (--no-echo-cancel).
  bool echo_cancel = true;
  // webrtcbin's jitter-buffer latency. 200 ms (GStreamer's default) costs
  // ~150 ms glass-to-glass over 50 ms (docs/measurements.md); 60 ms still leaves a
  // loopback/LAN retransmission (NACK) a chance. The start value: unless
  // pinned, it follows the measured RTT (media/retransmission.h).
  unsigned latency_ms = 60;
  bool latency_pinned = false;
  // Sender-side congestion control (media/rate_controller.h): the encoders
  // follow what each partner's reports say its path carries. Off: the
  // preset's fixed rate and size (--congestion-control off).
  bool congestion_control = true;
  IceOptions ice;
  OutputOptions output;
  // Where to write pipeline graphs (DOT, and SVG when graphviz is
  // installed) at PLAYING, when the first remote video arrives, and on
  // errors; empty = don't.
  std::string dot_dir;

  // Call quality (see src/stats).
  // --latency-probe: draw the capture time into every sent video frame
  // (media/frame_stamp.h) and read it back from every received one.
  bool latency_stamp = false;
  // Record per-frame facts for the stats: decode times (freezes), latency
  // samples, decoded audio energy. Bounded lists, drained by the stats.
  bool frame_log = false;
  // Keep a reference to the last decoded remote video frame (--snapshot).
  bool keep_last_frame = false;
  // Test hook (--test-send-delay): hold sent video this long after the
  // latency stamp, a known delay for validating the probe where the kernel
  // has no netem.
  unsigned test_send_delay_ms = 0;
  // stop(): how long to wait for EOS to finalize recordings.
  std::chrono::milliseconds stop_timeout{5000};

  // Test hook: replace the device element of a v4l2/alsa/pulse source by
  // this factory (e.g. "videotestsrc"), or by a bin made from a gst-launch
  // description (any value with '!', '=' or a space; e.g. "videotestsrc
  // is-live=true ! video/x-raw,width=1280,height=720 ! jpegenc" for an
  // MJPEG camera), keeping the rest of the chain, so the device paths
  // (camera mode selection, JPEG decoding) run on machines without devices.
  std::string substitute_device_element;
};

}  // namespace callagent::media
