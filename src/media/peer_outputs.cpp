#include "media/peer_outputs.h"

#include "common/logging.h"
#include "gst/gst_util.h"
#include "media/audio_playback.h"
#include "media/receive_chain.h"
#include "media/recorder.h"
#include "media/rtmp_output.h"
#include "media/video_display.h"

#include <fmt/format.h>

#include <vector>

namespace callagent::media {

namespace {
auto log() { return logging::get("webrtc"); }

// A write that fails during the call is an I/O error (74); one that cannot
// (re)open its file could not create it (73).
ExitCode output_error_code(const GError* e) {
  if (e && e->domain == GST_RESOURCE_ERROR &&
      (e->code == GST_RESOURCE_ERROR_OPEN_WRITE || e->code == GST_RESOURCE_ERROR_OPEN_READ_WRITE ||
       e->code == GST_RESOURCE_ERROR_NOT_FOUND))
    return ExitCode::CantCreate;
  return ExitCode::IoErr;
}
}  // namespace

PeerOutputs::PeerOutputs(Config config) : config_(std::move(config)), ctx_(thread_default_context()) {
  const auto& out = config_.options->output;
  if (!out.video_sink.empty()) {
    // Made here, on the main thread, not in pad-added: see VideoDisplay::create.
    display_ = VideoDisplay::create(out.video_sink, out.fullscreen);
    if (!display_)
      log()->error("peer{}: cannot show the remote video on '{}'; decoding it without a display", config_.id,
                   out.video_sink);
  }
}

PeerOutputs::~PeerOutputs() {
  missing_media_timer_.cancel();
  file_check_timer_.cancel();
  detach_playback();
  release();
}

std::optional<Error> PeerOutputs::prepare(const signaling::Sdp& remote) {
  const signaling::SdpMediaSection* v = remote.find_kind("video");
  const signaling::SdpMediaSection* a = remote.find_kind("audio");
  const bool video = v && v->remote_sends;
  const bool audio = a && a->remote_sends;
  std::optional<Error> error;
  // Only this (main) thread sets recorder_ and rtmp_: they are made outside
  // the lock (they call into GStreamer and the file system) and published
  // under it, for attach() on the streaming thread.
  bool have_recorder = false, have_rtmp = false, had_recording = false;
  {
    std::lock_guard lock(mutex_);
    have_recorder = recorder_ != nullptr;
    have_rtmp = rtmp_ != nullptr;
    had_recording = !recording_path_.empty();
  }
  std::unique_ptr<Recorder> recorder;
  std::unique_ptr<RtmpOutput> rtmp;
  // One recording per peer: not a new one after a failed one was removed.
  if (config_.record_path && !have_recorder && !had_recording && (video || audio)) {
    Recorder::Kinds kinds;
    kinds.video = video;
    kinds.audio = audio;
    kinds.video_encoding = config_.video_encoding;
    auto r = Recorder::create(config_.bin, config_.record_path(), kinds);
    if (!r) {
      log()->error("peer{}: {}", config_.id, r.error().message);
      error = r.error();
    } else {
      recorder = std::move(*r);
      // A file removed under us raises nothing (the descriptor writes on):
      // look at the path now and then.
      file_check_timer_.start(std::chrono::seconds(2), [this] {
        check_recording_file();
        return true;
      });
    }
  }
  const auto& url = config_.options->output.rtmp_url;
  if (!url.empty() && !have_rtmp && (video || audio))
    rtmp = std::make_unique<RtmpOutput>(config_.bin, url, video, audio, config_.options->video.fps);
  std::lock_guard lock(mutex_);
  if (recorder) {
    recording_path_ = recorder->path();
    recorder_ = std::move(recorder);
  }
  if (rtmp) rtmp_ = std::move(rtmp);
  return error;
}

void PeerOutputs::on_connected() {
  missing_media_timer_.start_once(std::chrono::seconds(4), [this] {
    Recorder* recorder = nullptr;  // lives until release(), on this thread
    {
      std::lock_guard lock(mutex_);
      recorder = recorder_.get();
    }
    if (recorder) {
      recorder->end_missing(MediaKind::Video);
      recorder->end_missing(MediaKind::Audio);
    }
  });
}

bool PeerOutputs::attach_fakesink(GstElement* tee, const char* name) {
  GstElement* q = make_element("queue", nullptr);
  GstElement* sink = make_element("fakesink", name);
  if (!q || !sink) return false;
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add_many(config_.bin, q, sink, nullptr);
  link_many({tee, q, sink});
  for (GstElement* e : {sink, q}) gst_element_sync_state_with_parent(e);
  return true;
}

// Without a display, decode anyway (the counters prove media flowed) into
// fakesink sync=false: it counts what the decoder produced, with no QoS
// drops and no dependence on the latency computation.
bool PeerOutputs::attach_video_sink(const ReceiveChain& chain) {
  if (!display_) return attach_fakesink(chain.decoded_tee(), "video-sink");
  display_->show("callagent");
  log()->info("peer{}: showing the remote video on {}", config_.id, display_->description());
  GstElement* q = make_element("queue", nullptr);
  GstElement* conv = make_element("videoconvert", nullptr);
  GstElement* scale = make_element("videoscale", nullptr);
  GstElement* sink = display_->sink();
  if (!q || !conv || !scale) return false;
  gst_bin_add_many(config_.bin, q, conv, scale, sink, nullptr);
  link_many({chain.decoded_tee(), q, conv, scale, sink});
  for (GstElement* e : {sink, scale, conv, q}) gst_element_sync_state_with_parent(e);
  return true;
}

bool PeerOutputs::attach_audio_sink(const ReceiveChain& chain, bool closing) {
  if (!config_.playback || closing) return attach_fakesink(chain.decoded_tee(), "audio-sink");
  // Into the engine's mixer (one sink and echo probe for all partners),
  // converted here to the mixer's format so it never renegotiates.
  GstElement* q = make_element("queue", nullptr);
  GstElement* conv = make_element("audioconvert", nullptr);
  GstElement* res = make_element("audioresample", nullptr);
  GstElement* cf = make_element("capsfilter", "audio-playback-caps");
  if (!q || !conv || !res || !cf) return false;
  set_caps(cf, AudioPlayback::input_caps());
  gst_bin_add_many(config_.bin, q, conv, res, cf, nullptr);
  if (!link_many({chain.decoded_tee(), q, conv, res, cf})) return false;
  GRef<GstPad> cf_src = GRef<GstPad>::adopt(gst_element_get_static_pad(cf, "src"));
  GstPad* ghost = gst_ghost_pad_new("audio_out", cf_src.get());
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(GST_ELEMENT(config_.bin), ghost);
  GRef<GstPad> mixer_pad = GRef<GstPad>::adopt(config_.playback->link_input(ghost));
  if (!mixer_pad) return false;
  // Borrowed: the queue lives as long as the bin.
  GstPad* in = GRef<GstPad>::adopt(gst_element_get_static_pad(q, "sink")).get();
  for (GstElement* e : {cf, res, conv, q}) gst_element_sync_state_with_parent(e);
  bool late = false;
  {
    std::lock_guard lock(mutex_);
    late = closing_;  // detach_playback() ran while we linked: it found nothing to release
    if (!late) {
      mixer_pad_ = mixer_pad;
      playback_out_ = ghost;
      playback_in_ = in;
    }
  }
  if (late) release_playback(in, ghost, mixer_pad.get());
  return true;
}

// The lock is held only to read what is shared; the display (X11), the
// engine's mixer and the RTMP output are called after it is released. The
// RTMP output lives until release(), which runs only after the bin is in
// NULL, when no streaming thread is here any more. A recorder can go
// earlier (a failed recording is removed on the main thread), so the tee is
// linked to it under the lock: a plain pad link, nothing of ours runs.
bool PeerOutputs::attach(const ReceiveChain& chain) {
  const MediaKind kind = chain.codec().kind;
  RtmpOutput* rtmp = nullptr;
  bool closing = false;
  {
    std::lock_guard lock(mutex_);
    rtmp = rtmp_.get();
    closing = closing_;
  }
  if (!(kind == MediaKind::Video ? attach_video_sink(chain) : attach_audio_sink(chain, closing))) return false;
  bool linked = true;
  {
    std::lock_guard lock(mutex_);
    if (recorder_ && recorder_->sink_pad(kind)) {
      GRef<GstPad> tp = GRef<GstPad>::adopt(gst_element_request_pad_simple(chain.received_tee(), "src_%u"));
      linked = gst_pad_link(tp.get(), recorder_->sink_pad(kind)) == GST_PAD_LINK_OK;
    }
  }
  if (!linked) log()->error("peer{}: cannot link the {} recording", config_.id, to_string(kind));
  if (rtmp) rtmp->link_input(kind, chain.decoded_tee());
  return true;
}

void PeerOutputs::started(const ReceiveChain& chain) {
  bool playing = false;
  {
    std::lock_guard lock(mutex_);
    playing = static_cast<bool>(mixer_pad_);
  }
  if (chain.codec().kind == MediaKind::Audio && playing) {
    // A new live input behind a jitter buffer: have the engine recompute
    // the pipeline latency (the mixer's floor normally covers it already).
    // Posting runs the bus's sync handler: never under our lock.
    gst_element_post_message(GST_ELEMENT(config_.bin), gst_message_new_latency(GST_OBJECT(config_.bin)));
  }
}

bool PeerOutputs::handle_error(GstMessage* msg) {
  std::unique_ptr<Recorder> failed;
  RtmpOutput* rtmp = nullptr;  // main thread, like release(): lives through this call
  {
    std::lock_guard lock(mutex_);
    if (rtmp_ && rtmp_->owns(GST_MESSAGE_SRC(msg))) {
      rtmp = rtmp_.get();
    } else {
      if (!recorder_ || !recorder_->owns(GST_MESSAGE_SRC(msg))) return false;
      // Out of reach of attach() from here on.
      failed = std::move(recorder_);
    }
  }
  if (rtmp) {
    rtmp->on_error(msg);
    return true;
  }
  GError* e = nullptr;
  gchar* d = nullptr;
  gst_message_parse_error(msg, &e, &d);
  GErrorPtr err(e);
  GCharPtr dbg(d);
  if (dbg) log()->debug("peer{}: recording error details: {}", config_.id, dbg.get());
  const std::string path = failed->path();
  fail_recording(std::move(failed),
                 Error{output_error_code(err.get()),
                       fmt::format("recording {} failed: {} ({}); the recording is stopped, the call goes on", path,
                                   err ? err->message : "unknown error", object_path(GST_MESSAGE_SRC(msg)))});
  return true;
}

void PeerOutputs::detach_playback() {
  GstPad *in = nullptr, *out = nullptr;
  GRef<GstPad> mixer_pad;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;  // a late pad-added builds no new playback branch
    in = std::exchange(playback_in_, nullptr);
    out = std::exchange(playback_out_, nullptr);
    mixer_pad = std::move(mixer_pad_);
  }
  if (!mixer_pad) return;
  release_playback(in, out, mixer_pad.get());
}

void PeerOutputs::release_playback(GstPad* in, GstPad* out, GstPad* mixer_pad) {
  // Drop at the branch's entry from now on: upstream (the decoder, a
  // recording still finishing) keeps getting OK instead of the FLUSHING or
  // NOT_LINKED of a released pad, and the branch's queue never sees EOS, so
  // it stops quietly instead of posting a not-linked error.
  gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
                    +[](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr,
                    nullptr);
  config_.playback->release_input(out, mixer_pad);
  log()->debug("peer{}: audio playback detached", config_.id);
}

void PeerOutputs::finish(std::function<void()> done) {
  missing_media_timer_.cancel();
  file_check_timer_.cancel();
  // The partner is gone: stop playing it now, not when its recording is
  // finalized.
  detach_playback();
  Recorder* rec = nullptr;
  RtmpOutput* rtmp = nullptr;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    rtmp = rtmp_.get();
    rec = recorder_.get();
  }
  if (rtmp) rtmp->stop();
  if (rec)
    rec->finish(std::move(done));
  else if (done)
    done();
}

void PeerOutputs::release() {
  std::lock_guard lock(mutex_);
  rtmp_.reset();
  recorder_.reset();
}

void PeerOutputs::fail_recording(std::unique_ptr<Recorder> rec, Error error) {
  OutputFailure f;
  f.output = "recording";
  f.path = rec->path();
  f.error = std::move(error);
  log()->error("peer{}: {}", config_.id, f.error.message);
  rec->remove();
  rec.reset();
  if (config_.on_failure) config_.on_failure(f);
}

void PeerOutputs::check_recording_file() {
  std::unique_ptr<Recorder> gone;
  {
    std::lock_guard lock(mutex_);
    if (!recorder_ || closing_ || recorder_->file_intact()) return;
    gone = std::move(recorder_);
  }
  const std::string path = gone->path();
  fail_recording(std::move(gone),
                 Error{ExitCode::IoErr, fmt::format("recording {} was removed or replaced during the call; the "
                                                    "recording is stopped, the call goes on",
                                                    path)});
}

std::string PeerOutputs::recording_path() const {
  std::lock_guard lock(mutex_);
  return recording_path_;
}

uint64_t PeerOutputs::rtmp_restarts() const {
  std::lock_guard lock(mutex_);
  return rtmp_ ? rtmp_->restarts() : 0;
}

void PeerOutputs::log_display_counts() const {
  if (display_) display_->log_counts(fmt::format("peer{}: ", config_.id));
}

}  // namespace callagent::media
