#include "media/media_engine.h"

#include "common/heap_trim.h"
#include "common/logging.h"
#include "media/audio_playback.h"
#include "gst/gst_util.h"
#include "media/device_list.h"
#include "media/local_source.h"
#include "media/plugin_check.h"

#include <fmt/format.h>

#include <algorithm>

namespace callagent::media {

namespace {
auto log() { return logging::get("media"); }

const char* state_name(MediaEngine::State s) {
  switch (s) {
    case MediaEngine::State::Running: return "running";
    case MediaEngine::State::Stopping: return "stopping";
    case MediaEngine::State::Stopped: return "stopped";
    case MediaEngine::State::Failed: return "failed";
  }
  return "?";
}

ExitCode exit_code_for(GError* e) {
  if (!e) return ExitCode::Software;
  if (e->domain == GST_RESOURCE_ERROR) {
    if (e->code == GST_RESOURCE_ERROR_NOT_FOUND || e->code == GST_RESOURCE_ERROR_OPEN_READ)
      return ExitCode::NoInput;
    if (e->code == GST_RESOURCE_ERROR_OPEN_WRITE || e->code == GST_RESOURCE_ERROR_OPEN_READ_WRITE)
      return ExitCode::CantCreate;
    if (e->code == GST_RESOURCE_ERROR_WRITE || e->code == GST_RESOURCE_ERROR_NO_SPACE_LEFT)
      return ExitCode::IoErr;
    return ExitCode::Unavailable;  // busy device, ...
  }
  if (e->domain == GST_STREAM_ERROR) return ExitCode::DataErr;
  if (e->domain == GST_CORE_ERROR && e->code == GST_CORE_ERROR_MISSING_PLUGIN) return ExitCode::Config;
  return ExitCode::CallFailed;
}
}  // namespace

Result<std::unique_ptr<MediaEngine>> MediaEngine::create(const MediaOptions& options,
                                                         Listener* listener) {
  if (auto st = check_plugins(options); !st) return st.error();
  std::unique_ptr<MediaEngine> e(new MediaEngine(options, listener));
  if (auto st = e->build(); !st) return st.error();
  return e;
}

MediaEngine::MediaEngine(const MediaOptions& options, Listener* listener)
    : options_(options), listener_(listener) {
  ctx_ = thread_default_context();
}

MediaEngine::~MediaEngine() { shutdown_pipeline(); }

Status MediaEngine::build() {
  pipeline_ = GRef<GstElement>::ref_sink(gst_pipeline_new("callagent"));
  GstBin* pipeline = GST_BIN(pipeline_.get());
  LocalSource::Events events;
  events.on_eos = [this](MediaKind k) {
    if (listener_) listener_->on_source_eos(k);
  };
  events.on_device = [this](MediaKind k, bool lost, const std::string& device, const std::string& why) {
    if (listener_) listener_->on_device(k, lost, device, why);
  };
  if (options_.video_source.type != SourceSpec::Type::None) {
    auto s = LocalSource::create(pipeline, MediaKind::Video, options_, events);
    if (!s) return s.error();
    video_ = std::move(*s);
    if (!options_.output.self_view.empty())
      self_view_ = SelfView::create(pipeline, video_->raw_tee(), options_.output.self_view);
  }
  if (!options_.output.audio_sink.empty()) {
    // Before the microphone: its webrtcdsp looks the echo probe up by name.
    auto p = AudioPlayback::create(pipeline, options_);
    if (!p) return p.error();
    playback_ = std::move(*p);
  }
  if (options_.audio_source.type != SourceSpec::Type::None) {
    auto s = LocalSource::create(pipeline, MediaKind::Audio, options_, events,
                                 playback_ ? playback_->probe_name() : std::string());
    if (!s) return s.error();
    audio_ = std::move(*s);
  }
  if (options_.video_source.is_capture_device() || options_.audio_source.is_capture_device())
    device_watch_ = DeviceWatch::start(ctx_, [this](bool video) {
      if (LocalSource* s = video ? video_.get() : audio_.get()) s->device_added();
    });
  auto bus = GRef<GstBus>::adopt(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  bus_watch_.reset(gst_bus_create_watch(bus.get()));
  g_source_set_callback(bus_watch_.get(),
                        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&MediaEngine::on_bus_message)),
                        this, nullptr);
  g_source_attach(bus_watch_.get(), ctx_);

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string why = "cannot start the media pipeline";
    ExitCode code = ExitCode::Software;
    if (GUnique<GstMessage> m{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)}) {
      GError* e = nullptr;
      gst_message_parse_error(m.get(), &e, nullptr);
      GErrorPtr err(e);
      why = fmt::format("{}: {}", object_path(GST_MESSAGE_SRC(m.get())), err ? err->message : "?");
      code = exit_code_for(err.get());
    }
    dump_graph("start-failed");
    return Error{code, why};
  }
  log()->info("media engine running: video {} {}x{}@{} {} {} kbps, audio {} {} Hz x{} {} kbps",
              to_string(options_.video_source), options_.video.width, options_.video.height,
              options_.video.fps, to_string(options_.codec),
              options_.video.effective_bitrate_kbps(), to_string(options_.audio_source),
              options_.audio.rate, options_.audio.channels, options_.audio.bitrate_kbps);
  return Ok{};
}

void MediaEngine::set_state(State to) {
  if (to == state_) return;
  const bool legal = (state_ == State::Running && to != State::Running) ||
                     (state_ == State::Stopping && (to == State::Stopped || to == State::Failed)) ||
                     (state_ == State::Failed && to == State::Stopped);
  if (!legal) {
    log()->error("media engine: illegal move {} -> {}", state_name(state_), state_name(to));
    return;
  }
  log()->debug("media engine: {} -> {}", state_name(state_), state_name(to));
  state_ = to;
}

std::string MediaEngine::next_record_path() {
  const std::string& base = options_.output.record_path;
  if (base.empty()) return {};
  ++recordings_;
  if (recordings_ == 1) return base;
  auto dot = base.rfind('.');
  auto slash = base.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return fmt::format("{}-{}", base, recordings_);
  return fmt::format("{}-{}{}", base.substr(0, dot), recordings_, base.substr(dot));
}

PeerConnection* MediaEngine::add_peer(PeerConnection::Listener* listener) {
  if (state_ != State::Running) {
    log()->error("add_peer while the engine is {}", state_name(state_));
    return nullptr;
  }
  PeerConnection::Config cfg;
  cfg.id = next_peer_id_++;
  cfg.pipeline = GST_BIN(pipeline_.get());
  cfg.video = video_.get();
  cfg.audio = audio_.get();
  cfg.playback = playback_.get();
  cfg.options = &options_;
  if (!options_.output.record_path.empty()) cfg.record_path = [this] { return next_record_path(); };
  cfg.on_output_failure = [this, id = cfg.id](const OutputFailure& f) {
    if (listener_) listener_->on_output_failed(id, f);
  };
  std::unique_ptr<PeerConnection> pc(new PeerConnection(std::move(cfg), listener));
  if (auto st = pc->build(); !st) {
    log()->error("cannot create a peer connection: {}", st.error().message);
    return nullptr;
  }
  peers_.push_back(std::move(pc));
  return peers_.back().get();
}

void MediaEngine::remove_peer(PeerConnection* peer, std::function<void()> done) {
  auto it = std::find_if(peers_.begin(), peers_.end(), [&](auto& p) { return p.get() == peer; });
  if (it == peers_.end()) {
    if (done) post(ctx_, lifetime_, std::move(done));
    return;
  }
  log()->info("removing peer{}", peer->id());
  if (listener_) listener_->on_peer_retired(*peer);
  closing_.push_back(std::move(*it));
  peers_.erase(it);
  auto finished = std::make_shared<bool>(false);
  auto timer = std::make_shared<Timeout>();
  auto finish = [this, peer, finished, timer, done = std::move(done)]() {
    if (*finished) return;
    *finished = true;
    timer->cancel();
    // Destroy outside the peer's own call stack.
    post(ctx_, lifetime_, [this, peer, done] {
      auto it2 = std::find_if(closing_.begin(), closing_.end(),
                              [&](auto& p) { return p.get() == peer; });
      if (it2 != closing_.end()) {
        const int id = (*it2)->id();
        closing_.erase(it2);
        // The peer's bin is in NULL and gone, its threads joined: give what
        // they freed back to the system, or a kiosk grows visit by visit
        // (common/heap_trim.h).
        const HeapTrim t = trim_heap();
        log()->debug("peer{} destroyed; heap trimmed, RSS {} -> {} KiB", id, t.rss_before_kib,
                     t.rss_after_kib);
      }
      if (done) done();
      maybe_stopped();
    });
  };
  timer->start_once(options_.stop_timeout, [finish, peer] {
    log()->warn("peer{}: recording did not finish in time; removing anyway", peer->id());
    finish();
  });
  peer->close(finish);
}

void MediaEngine::stop(std::function<void()> done) {
  if (state_ == State::Stopped) {
    if (done) post(ctx_, lifetime_, std::move(done));
    return;
  }
  if (state_ == State::Running) set_state(State::Stopping);
  stop_done_ = [this, done = std::move(done)]() {
    stop_timer_.cancel();
    shutdown_pipeline();
    set_state(State::Stopped);
    log()->info("media engine stopped");
    if (done) done();
  };
  if (peers_.empty() && closing_.empty()) {
    post(ctx_, lifetime_, [this] {
      if (auto f = std::exchange(stop_done_, nullptr)) f();
    });
    return;
  }
  stop_timer_.start_once(options_.stop_timeout + std::chrono::seconds(1), [this] {
    if (auto f = std::exchange(stop_done_, nullptr)) f();
  });
  // Also waits for peers already being removed (their recordings).
  std::vector<PeerConnection*> raw;
  for (auto& p : peers_) raw.push_back(p.get());
  for (auto* p : raw) remove_peer(p);
}

// Ends stop() once the last peer is gone.
void MediaEngine::maybe_stopped() {
  if (!stop_done_ || !peers_.empty() || !closing_.empty()) return;
  if (auto f = std::exchange(stop_done_, nullptr)) f();
}

void MediaEngine::shutdown_pipeline() {
  if (bus_watch_) {
    g_source_destroy(bus_watch_.get());
    bus_watch_.reset();
  }
  stop_timer_.cancel();
  device_watch_.reset();
  closing_.clear();
  peers_.clear();
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    self_view_.reset();  // its window, after its sink stopped
    video_.reset();
    audio_.reset();
    playback_.reset();
    pipeline_.reset();
  }
}

void MediaEngine::set_muted(MediaKind kind, bool muted) {
  LocalSource* s = kind == MediaKind::Video ? video_.get() : audio_.get();
  if (s) s->set_muted(muted);
}

bool MediaEngine::muted(MediaKind kind) const {
  const LocalSource* s = kind == MediaKind::Video ? video_.get() : audio_.get();
  return s && s->muted();
}

Status MediaEngine::set_source(MediaKind kind, const SourceSpec& spec) {
  LocalSource* src = kind == MediaKind::Video ? video_.get() : audio_.get();
  if (!src)
    return Error{ExitCode::Usage, fmt::format("no {} is sent (--{}-source none)", to_string(kind), to_string(kind))};
  if (auto st = src->replace_source(spec); !st) return st;
  (kind == MediaKind::Video ? options_.video_source : options_.audio_source) = spec;
  return Ok{};
}

Status MediaEngine::set_presets(const std::optional<VideoPreset>& video, std::optional<int> audio_kbps) {
  if (video && !video_) return Error{ExitCode::Usage, "no video is sent (--video-source none)"};
  if (audio_kbps && !audio_) return Error{ExitCode::Usage, "no audio is sent (--audio-source none)"};
  if (video) {
    options_.video = *video;
    video_->set_video_preset(*video);
    log()->info("video preset now {}x{} at {} fps, {} kbit/s", video->width, video->height, video->fps,
                video->effective_bitrate_kbps());
  }
  if (audio_kbps) {
    options_.audio.bitrate_kbps = *audio_kbps;
    audio_->set_audio_bitrate(*audio_kbps);
    log()->info("audio bitrate now {} kbit/s", *audio_kbps);
  }
  for (auto& p : peers_) p->on_presets_changed();
  return Ok{};
}

void MediaEngine::set_video_paused(bool paused) {
  if (video_) {
    log()->info("test hook: sending video {}", paused ? "paused" : "resumed");
    video_->set_paused(paused);
  }
}

MediaEngine::Counters MediaEngine::counters() const {
  Counters c;
  if (video_) {
    c.video_frames_encoded = video_->buffers_encoded();
    c.keyframe_requests = video_->keyframe_requests();
    c.keyframes_forced = video_->keyframes_forced();
  }
  if (audio_) c.audio_buffers_encoded = audio_->buffers_encoded();
  return c;
}

std::string MediaEngine::dump_graph(const std::string& name) const {
  return dump_dot(GST_BIN(pipeline_.get()), options_.dot_dir, name);
}

gboolean MediaEngine::on_bus_message(GstBus*, GstMessage* msg, gpointer data) {
  static_cast<MediaEngine*>(data)->handle_bus_message(msg);
  return G_SOURCE_CONTINUE;
}

void MediaEngine::fail(const std::string& what) {
  log()->error("media pipeline failed: {}", what);
  if (auto path = dump_graph("error"); !path.empty()) log()->error("pipeline graph: {}", path);
}

void MediaEngine::handle_bus_message(GstMessage* msg) {
  GstObject* src = GST_MESSAGE_SRC(msg);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      for (auto& p : peers_) {
        if (p->owns(src)) {
          // The listener may remove the peer from peers_ meanwhile: hold
          // the pointer, not the vector's slot.
          PeerConnection* peer = p.get();
          if (auto path = dump_graph(fmt::format("peer{}-error", peer->id())); !path.empty())
            log()->error("pipeline graph: {}", path);
          peer->on_pipeline_error(msg);
          return;
        }
      }
      for (auto& p : closing_)
        if (p->owns(src)) return;  // a peer going away
      GError* e = nullptr;
      gchar* d = nullptr;
      gst_message_parse_error(msg, &e, &d);
      GErrorPtr err(e);
      GCharPtr dbg(d);
      std::string what =
          fmt::format("{}: {}", object_path(src), err ? err->message : "unknown error");
      GstObject* pipeline = GST_OBJECT(pipeline_.get());
      if (src && pipeline != src && !gst_object_has_as_ancestor(src, pipeline)) {
        // Posted before its element left the pipeline (a looping file
        // source whose demuxer failed, then pushed EOS, which reopened the
        // file): nothing of it is left to fail.
        log()->warn("{} (from an element already removed; ignored)", what);
        return;
      }
      log()->debug("error details: {}", dbg ? dbg.get() : "");
      // A camera or microphone that fails mid-call is replaced by a
      // stand-in and tried again; the call goes on (LocalSource).
      if (state_ == State::Running)
        for (LocalSource* s : {video_.get(), audio_.get()})
          if (s && s->owns_source(src)) {
            if (s->on_source_error(err ? err->message : "unknown error")) return;
            break;
          }
      ExitCode code = exit_code_for(err.get());
      if (state_ == State::Failed || state_ == State::Stopped) return;
      fail(what);
      set_state(State::Failed);
      if (listener_) listener_->on_engine_error(Error{code, "media pipeline failed: " + what});
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError* e = nullptr;
      gst_message_parse_warning(msg, &e, nullptr);
      GErrorPtr err(e);
      log()->warn("{}: {}", object_path(src), err ? err->message : "?");
      break;
    }
    case GST_MESSAGE_LATENCY:
      // Sinks come and go with peers: the pipeline latency must follow.
      gst_bin_recalculate_latency(GST_BIN(pipeline_.get()));
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (src == GST_OBJECT(pipeline_.get())) {
        GstState old_s, new_s;
        gst_message_parse_state_changed(msg, &old_s, &new_s, nullptr);
        log()->debug("pipeline {} -> {}", gst_element_state_get_name(old_s),
                     gst_element_state_get_name(new_s));
        if (new_s == GST_STATE_PLAYING && !playing_graph_written_) {
          playing_graph_written_ = true;
          if (auto path = dump_graph("playing"); !path.empty()) log()->info("pipeline graph: {}", path);
        }
      }
      break;
    case GST_MESSAGE_EOS:
      log()->debug("pipeline EOS");
      break;
    default: break;
  }
}

}  // namespace callagent::media
