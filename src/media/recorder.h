#pragma once
// Writes one partner's remote media, as received (VP8/VP9/H.264 + Opus, no
// re-encoding), into a Matroska or WebM file. A bin inside the peer's bin:
//
//   video_sink (ghost) -> queue ----------------> matroskamux -> filesink
//   audio_sink (ghost) -> queue -> opusparse ---^
//
// The muxer's pads are requested when the Recorder is made, i.e. before any
// data flows (matroskamux refuses new pads once it has written its
// header); so the kinds must be known up front (from the remote SDP).
// A kind that never arrives must be ended with end_missing() or the muxer
// waits for it forever.
//
// finish() sends EOS so the muxer writes its index and duration (a complete,
// seekable file); the callback fires on the main context when the filesink
// has seen EOS.
//
// Failure during the call (disk full, an I/O error): the recording must
// never disturb the call. The bin's ghost sink pads pass data on with
// their own chain functions that turn any flow error of the recording
// (filesink's ERROR comes back through the muxer and the queue) into OK and
// drop everything after it, so the receive path and its tees never see the
// failure; the owner then takes the error message off the bus (owns()) and
// remove()s the bin while the call goes on. The file keeps what was written
// up to the failure (no index: ffmpeg reads it to that point).
// Measured with gst-launch (VP8 in matroskamux, filesink
// buffer-mode=unbuffered) on this machine: on a full 300 KiB tmpfs the
// write fails at once, filesink posts "No space left on the resource."
// (GST_RESOURCE_ERROR_NO_SPACE_LEFT) and the flow error reaches the source
// ("Internal data stream error"): unguarded, it would stop the partner's
// receive path. A file removed during the run raises nothing (the open
// descriptor writes on into the unlinked inode: the recording is lost
// silently, so PeerOutputs looks at the path every 2 s); a read-only
// remount of the directory is refused by the kernel while the file is open
// for writing ("mount point is busy"), and a chmod does not affect an open
// descriptor: no error, the recording goes on.
//
// Remote resolution changes (a browser ramps 320x180 -> 1280x720 as its
// bandwidth estimate grows; tests/media/test_recording.cpp switches
// 320x180 <-> 1280x720): one file, no new segment. VP8/VP9 frames carry
// their size, and matroskamux accepts new caps that differ only in fields
// the bitstream carries (width, height, profile; for H.264 in avc3 form also
// codec_data, level). Any other field that changes with the resolution
// (h264parse's colorimetry, say) would make it refuse the caps and fail the
// recording ("Caps changes are not supported by Matroska"), so every caps
// event after the first is rewritten to the first caps with only those
// fields updated (continued_caps). H.264 is stored as avc3 (SPS/PPS in
// band before every IDR) for the same reason; ffmpeg, VLC and mpv play it.
// The track header keeps the first size; players take the size from the
// frames.
//
// Crash safety (measured with tests/media/record_crash_check.sh on this
// machine: a loopback call, VP8 480p30 + Opus, the recording process killed
// with SIGKILL 6 s after the first remote frames; ffprobe -count_frames):
//   these settings:  186 video frames, last video pts 6.18 s, 308 Opus packets
//                    (nothing lost but the last ~50 ms); no duration in the
//                    header (ffprobe: N/A), ffmpeg decodes it to the end.
//   gst-launch comparison (same encoder/muxer, killed at 6 s):
//     filesink default buffering:        last pts 5.48 s (max-cluster 65 s),
//                                        5.84 s (max-cluster 1 s)
//     filesink buffer-mode=unbuffered:   last pts 5.81-5.88 s
//   SIGTERM/stop(): EOS, complete file with duration and cues.
// Settings that matter: matroskamux max-cluster-duration (a new cluster at
// least every second even without keyframes — our senders send keyframes
// only on request, and a demuxer reads whole clusters best) and filesink
// buffer-mode=unbuffered (else up to 64 KiB of stdio buffer, ~0.4 s at
// 1.2 Mbps, die with the process). fsync does not matter for a killed
// process (the page cache survives it); it would only for power loss.

#include "common/main_context.h"
#include "common/result.h"
#include "gst/gst_util.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace callagent::media {

class Recorder {
 public:
  struct Kinds {
    bool video = false;
    bool audio = false;
    std::string video_encoding = "VP8";  // VP8, VP9 or H264
  };
  // Adds the recorder bin to `parent` (running or not) and syncs its state.
  static Result<std::unique_ptr<Recorder>> create(GstBin* parent, const std::string& path,
                                                  const Kinds& kinds);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // The caps to give the muxer when the stream's caps change from `first` to
  // `next`: `first` with only the fields the bitstream carries taken from
  // `next` (see above). Transfer full.
  static GstCaps* continued_caps(const GstCaps* first, const GstCaps* next);

  // The bin's ghost sink pad for `kind` (borrowed), nullptr if not recorded.
  GstPad* sink_pad(MediaKind kind) const;
  const std::string& path() const { return path_; }

  // Ends a kind that never got linked so that the muxer stops waiting.
  void end_missing(MediaKind kind);

  // Unlinks the inputs and sends EOS; `done` runs on the main context when
  // the file is complete (or at once if it already is).
  void finish(std::function<void()> done);
  bool finished() const { return finished_; }

  GstElement* bin() const { return bin_; }
  // `o` is inside the recorder's bin.
  bool owns(GstObject* o) const;
  // After a failure: unlinks the inputs from their tees, stops the bin and
  // removes it from the parent. The file stays as written.
  void remove();
  // Whether the file at path() is still the one being written (not
  // removed or replaced).
  bool file_intact() const;

 private:
  Recorder() = default;
  static GstPadProbeReturn on_sink_eos(GstPad*, GstPadProbeInfo*, gpointer);
  static GstPadProbeReturn on_video_caps(GstPad*, GstPadProbeInfo*, gpointer);
  void send_eos(GstPad* ghost);
  void unlink_input(GstPad* ghost);
  static GstFlowReturn guarded_chain(GstPad* pad, GstObject* parent, GstBuffer* buf);
  static GstFlowReturn guarded_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list);

  GstBin* parent_ = nullptr;
  GstElement* bin_ = nullptr;  // owned by parent_
  GstPad* video_pad_ = nullptr;
  GstPad* audio_pad_ = nullptr;
  std::string path_;
  GMainContext* ctx_ = nullptr;
  Lifetime lifetime_ = make_lifetime();
  std::function<void()> done_;
  bool finishing_ = false;
  bool finished_ = false;
  std::atomic<bool> eos_seen_{false};
  // Set on the streaming thread by the first flow error of the recording.
  std::atomic<bool> failed_{false};
  // The file's identity once it exists (file_intact()).
  mutable unsigned long long dev_ = 0, ino_ = 0;
  // Streaming thread (on_video_caps) only.
  GUnique<GstCaps> first_video_caps_;
  int video_width_ = 0;
  int video_height_ = 0;
};

}  // namespace callagent::media
