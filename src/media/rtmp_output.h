#pragma once
// Restreams one partner's decoded media to an RTMP server: H.264
// (x264 ultrafast/zerolatency, baseline) + AAC in FLV, via rtmp2sink.
//
// Isolation: the output is a bin inside the peer's bin, fed from the
// decoded-media tees through leaky queues, so a slow or dead server never
// holds up the call. When the server drops (rtmp2sink posts an error, which
// the engine routes here instead of failing the call) the whole bin is torn
// down and rebuilt after a backoff (common/backoff.h: 1 s doubling to 30 s,
// no jitter; back to 1 s after a minute of streaming). The FLV stream restarts with new headers, which
// RTMP servers accept as a republish.
//
// Main context, except link_input() (called from the peer's pad-added on a
// streaming thread); the internal mutex guards the bin and the inputs.

#include "common/backoff.h"
#include "common/gref.h"
#include "common/main_context.h"
#include "media/media_options.h"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace callagent::media {

class RtmpOutput {
 public:
  RtmpOutput(GstBin* parent, std::string url, bool video, bool audio, int fps);
  ~RtmpOutput();
  RtmpOutput(const RtmpOutput&) = delete;
  RtmpOutput& operator=(const RtmpOutput&) = delete;

  // Connects a decoded-media tee (in `parent`) to this output.
  void link_input(MediaKind kind, GstElement* tee);
  bool owns(GstObject* o) const;
  // An error from inside the output: restart it later.
  void on_error(GstMessage* msg);
  void stop();
  uint64_t restarts() const { return restarts_.load(); }

 private:
  struct Input {
    GstElement* tee = nullptr;     // borrowed (in parent_)
    GRef<GstPad> tee_pad;          // our request pad on it
  };
  bool build_locked();
  void teardown_locked();
  void link_locked(MediaKind kind);

  GstBin* parent_;
  std::string url_;
  bool want_video_, want_audio_;
  int fps_;
  mutable std::mutex mutex_;
  GstElement* bin_ = nullptr;  // parent_'s while it exists (borrowed)
  Input video_, audio_;
  bool stopped_ = false;
  // 1 s doubling to 30 s, no jitter (one client per server).
  Backoff backoff_{std::chrono::seconds(1), std::chrono::seconds(30), 0.0};
  std::chrono::steady_clock::time_point started_;
  Timeout restart_timer_;
  std::atomic<uint64_t> restarts_{0};
};

}  // namespace callagent::media
