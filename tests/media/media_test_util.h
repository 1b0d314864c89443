#pragma once
// Helpers for the media tests: GStreamer initialised once, a private main
// context per test (pushed as thread default), waiting with a watchdog, and
// a loopback "signaling" between two PeerConnections.

#include "common/logging.h"
#include "common/main_context.h"
#include "media/media_engine.h"
#include "media/sdp_info.h"
#include "skip.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace callagent::media::test {

inline void init_gst() {
  static bool done = [] {
    gst_init(nullptr, nullptr);
    logging::setup(std::getenv("CALLAGENT_TEST_VERBOSE") ? 1 : -1, logging::Format::Text);
    return true;
  }();
  (void)done;
}

// A private main context for one test, thread-default while it lives.
class TestContext {
 public:
  TestContext() : ctx_(g_main_context_new()) {
    init_gst();
    g_main_context_push_thread_default(ctx_);
  }
  ~TestContext() {
    // Let posted closures run (they are guarded) before the context goes.
    while (g_main_context_iteration(ctx_, FALSE)) {
    }
    g_main_context_pop_thread_default(ctx_);
    g_main_context_unref(ctx_);
  }
  GMainContext* get() const { return ctx_; }

  // Iterates until pred() holds or the timeout passes; returns pred().
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      g_main_context_iteration(ctx_, FALSE);
      g_usleep(2000);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }

 private:
  GMainContext* ctx_;
};

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/callagent-media-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    if (!std::getenv("CALLAGENT_KEEP_TEST_FILES")) std::filesystem::remove_all(path_);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline MediaOptions loopback_options() {
  MediaOptions o;
  o.video = *parse_video_preset("480p", 30);
  o.audio = *parse_audio_preset("high");
  o.ice.local_addresses = {"127.0.0.1"};  // never any other address in tests
  return o;
}

// Records what one side's listener saw and forwards descriptions and
// candidates to the other side (posted, like a signaling server would).
struct LoopbackSide : PeerConnection::Listener {
  GMainContext* ctx = nullptr;
  Lifetime lifetime = make_lifetime();
  PeerConnection* self = nullptr;
  PeerConnection* other = nullptr;
  std::vector<std::string> candidate_addresses;
  std::vector<ConnectionState> states;
  bool got_video = false, got_audio = false;
  std::vector<std::string> errors;
  std::string description_type;

  // Optional: hold our description back this long, so that our
  // candidates reach the other side before it (they are not held).
  std::chrono::milliseconds description_delay{0};
  bool description_forwarded = false;
  size_t candidates_before_description = 0;  // forwarded before it
  std::shared_ptr<Timeout> description_timer = std::make_shared<Timeout>();

  void on_local_description(const signaling::SessionDescription& d) override {
    description_type = d.type;
    auto forward = [this, d] {
      description_forwarded = true;
      if (other) other->set_remote_description(d);
    };
    if (description_delay.count() > 0)
      description_timer->start_once(description_delay, forward);
    else
      post(ctx, lifetime, forward);
  }
  // Optional: what the "signaling" does to a candidate on its way (tests
  // hide addresses behind mDNS names, as browsers do).
  std::function<std::string(const std::string&)> rewrite_candidate;

  void on_local_candidate(const signaling::IceCandidate& c) override {
    candidate_addresses.push_back(candidate_address(c.candidate));
    auto sent = c;
    if (rewrite_candidate) sent.candidate = rewrite_candidate(c.candidate);
    post(ctx, lifetime, [this, sent] {
      if (!description_forwarded) ++candidates_before_description;
      if (other) other->add_remote_candidate(sent);
    });
  }
  void on_connection_state(ConnectionState s) override { states.push_back(s); }
  void on_remote_media(MediaKind k) override {
    (k == MediaKind::Video ? got_video : got_audio) = true;
  }
  void on_error(const Error& e) override { errors.push_back(e.message); }
  bool connected() const {
    return !states.empty() && states.back() == ConnectionState::Connected;
  }
};

struct EngineListener : MediaEngine::Listener {
  std::vector<std::string> errors;
  std::vector<MediaKind> eos;
  void on_engine_error(const Error& e) override { errors.push_back(e.message); }
  void on_source_eos(MediaKind k) override { eos.push_back(k); }
};

// Captures one area's log lines (info and up) while it lives. Attach before
// the engine is made and let it go after the engine is destroyed: spdlog's
// sink list is not for changing while streaming threads log.
class LogCapture {
 public:
  explicit LogCapture(const std::string& area)
      : logger_(logging::get(area)),
        sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        old_level_(logger_->level()) {
    logger_->sinks().push_back(sink_);
    if (old_level_ > spdlog::level::info) logger_->set_level(spdlog::level::info);
  }
  ~LogCapture() {
    auto& v = logger_->sinks();
    v.erase(std::remove(v.begin(), v.end(), sink_), v.end());
    logger_->set_level(old_level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  // The first captured line containing `text`, or "".
  std::string find(const std::string& text) const {
    for (const auto& l : sink_->last_formatted())
      if (l.find(text) != std::string::npos) return l;
    return {};
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  spdlog::level::level_enum old_level_;
};

// Runs a command and returns its stdout ("" on failure).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// ffprobe facts about a recording.
struct ProbeResult {
  std::string video_codec, audio_codec;
  int width = 0, height = 0;
  double duration = 0;  // seconds (format duration, or last packet time)
  long video_frames = 0;
};

inline ProbeResult probe(const std::string& path) {
  ProbeResult r;
  std::string out = run_command(
      "ffprobe -v error -count_frames -show_entries "
      "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration "
      "-of default=nw=1 '" + path + "' 2>/dev/null");
  std::string type, cur;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "codec_name") type = v;  // codec_name precedes codec_type
    if (k == "codec_type") {
      cur = v;
      if (v == "video") r.video_codec = type;
      if (v == "audio") r.audio_codec = type;
    }
    if (k == "width" && v != "N/A") r.width = std::atoi(v.c_str());
    if (k == "height" && v != "N/A") r.height = std::atoi(v.c_str());
    if (k == "nb_read_frames" && v != "N/A" && cur == "video")
      r.video_frames = std::atol(v.c_str());
    if (k == "duration" && v != "N/A") r.duration = std::atof(v.c_str());
  }
  return r;
}

}  // namespace callagent::media::test
