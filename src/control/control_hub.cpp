#include "control/control_hub.h"

#include "call/call_session.h"
#include "common/logging.h"
#include "control/control_server.h"
#include "stats/report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace callagent::control {

namespace {
auto log() {
  static auto l = logging::get("control");
  return l;
}

JsonNodePtr parse_json(const std::string& text) {
  GRef<JsonParser> p = GRef<JsonParser>::adopt(json_parser_new());
  if (!json_parser_load_from_data(p.get(), text.c_str(), static_cast<gssize>(text.size()), nullptr)) return nullptr;
  JsonNode* root = json_parser_get_root(p.get());
  return JsonNodePtr(root ? json_node_copy(root) : nullptr);
}

JsonNode* string_array(const std::vector<std::string>& v) {
  JsonArray* a = json_array_new();
  for (const auto& s : v) json_array_add_string_element(a, s.c_str());
  JsonNode* n = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(n, a);
  return n;
}
}  // namespace

// ControlTarget over the CallSession's public control API. Before attach()
// (or after detach()) every command is refused: there is no call to act on.
class ControlHub::SessionTarget final : public ControlTarget {
 public:
  explicit SessionTarget(std::function<void()> quit) : quit_(std::move(quit)) {}
  call::CallSession* session = nullptr;

  void set_muted(bool audio, bool video, bool muted) override {
    if (!session) return;
    if (audio) session->set_muted(media::MediaKind::Audio, muted);
    if (video) session->set_muted(media::MediaKind::Video, muted);
  }
  bool audio_muted() const override { return session && session->muted(media::MediaKind::Audio); }
  bool video_muted() const override { return session && session->muted(media::MediaKind::Video); }

  GUnique<JsonObject> status() override {
    GUnique<JsonObject> o(json_object_new());
    if (!session) {
      json_object_set_string_member(o.get(), "state", "starting");
      return o;
    }
    const call::SessionStatus s = session->status();
    JsonObject* r = o.get();
    json_object_set_string_member(r, "state", s.state.c_str());
    json_object_set_string_member(r, "server", s.server.c_str());
    json_object_set_string_member(r, "room", s.room.c_str());
    json_object_set_string_member(r, "partner", s.partner.c_str());
    json_object_set_int_member(r, "peer", s.peer);
    json_object_set_int_member(r, "connections", s.partners_connected);
    if (s.ice) {
      JsonObject* ice = json_object_new();
      json_object_set_string_member(ice, "local_type", s.ice->local_type.c_str());
      json_object_set_string_member(ice, "remote_type", s.ice->remote_type.c_str());
      json_object_set_string_member(ice, "protocol", s.ice->protocol.c_str());
      json_object_set_string_member(ice, "local_address", s.ice->local_address.c_str());
      json_object_set_string_member(ice, "remote_address", s.ice->remote_address.c_str());
      if (!s.ice->relay_protocol.empty())
        json_object_set_string_member(ice, "relay_protocol", s.ice->relay_protocol.c_str());
      json_object_set_object_member(r, "ice", ice);
    } else {
      json_object_set_null_member(r, "ice");
    }
    json_object_set_boolean_member(r, "audio_muted", s.audio_muted);
    json_object_set_boolean_member(r, "video_muted", s.video_muted);
    JsonObject* v = json_object_new();
    json_object_set_string_member(v, "source", s.video_source.c_str());
    json_object_set_int_member(v, "width", s.video.width);
    json_object_set_int_member(v, "height", s.video.height);
    json_object_set_int_member(v, "fps", s.video.fps);
    json_object_set_int_member(v, "preset_kbps", s.video.bitrate_kbps);
    json_object_set_int_member(v, "target_kbps", s.video_target_bps / 1000);
    json_object_set_object_member(r, "video", v);
    JsonObject* a = json_object_new();
    json_object_set_string_member(a, "source", s.audio_source.c_str());
    json_object_set_int_member(a, "rate", s.audio.rate);
    json_object_set_int_member(a, "channels", s.audio.channels);
    json_object_set_int_member(a, "kbps", s.audio.bitrate_kbps);
    json_object_set_object_member(r, "audio", a);
    JsonObject* out = json_object_new();
    json_object_set_string_member(out, "recording", s.recording.c_str());
    json_object_set_member(out, "recordings", string_array(s.recordings));
    json_object_set_string_member(out, "snapshot", s.snapshot_path.c_str());
    json_object_set_member(out, "snapshots", string_array(s.snapshots));
    json_object_set_string_member(out, "stats_log", s.stats_log.c_str());
    json_object_set_object_member(r, "outputs", out);
    return o;
  }

  Result<JsonNodePtr> stats() override {
    if (!session || !session->stats() || !session->stats()->last())
      return Error{ExitCode::Unavailable, "no stats interval yet (see --stats-interval)"};
    auto node = parse_json(stats::snapshot_to_json(*session->stats()->last()));
    if (!node) return Error{ExitCode::Software, "the stats snapshot is no JSON"};
    return node;
  }
  Status hangup(bool rejoin) override {
    if (!session) return not_ready();
    return session->hangup(rejoin);
  }
  Status quit() override {
    if (quit_) quit_();
    return Ok{};
  }
  Status chat(const std::string& text) override {
    if (!session) return not_ready();
    return session->send_chat(text);
  }
  Status keyframe() override {
    if (!session) return not_ready();
    return session->request_keyframe();
  }
  Result<std::string> snapshot(const std::string& path) override {
    if (!session) return not_ready();
    return session->snapshot_now(path);
  }
  Result<GUnique<JsonObject>> set_media(const Command& cmd) override {
    if (!session) return not_ready();
    if (auto st = session->set_send({cmd.video_size, cmd.fps, cmd.bitrate_kbps, cmd.audio_preset}); !st)
      return st.error();
    return sent_now();
  }
  Result<GUnique<JsonObject>> set_source(const Command& cmd) override {
    if (!session) return not_ready();
    // Video first: a bad audio spec after a good video one still leaves
    // the reply saying what is sent now.
    if (cmd.video_source)
      if (auto st = session->set_source(media::MediaKind::Video, *cmd.video_source); !st) return st.error();
    if (cmd.audio_source)
      if (auto st = session->set_source(media::MediaKind::Audio, *cmd.audio_source); !st) return st.error();
    return sent_now();
  }

 private:
  // What is sent now: the status reply's video and audio members.
  GUnique<JsonObject> sent_now() {
    GUnique<JsonObject> st = status();
    GUnique<JsonObject> o(json_object_new());
    for (const char* m : {"video", "audio"})
      if (JsonNode* n = json_object_get_member(st.get(), m)) json_object_set_member(o.get(), m, json_node_copy(n));
    return o;
  }

  static Error not_ready() { return Error{ExitCode::Unavailable, "the call is not set up yet"}; }
  std::function<void()> quit_;
};

ControlHub::ControlHub(Options options, std::function<void()> quit)
    : options_(std::move(options)),
      target_(std::make_unique<SessionTarget>(std::move(quit))),
      dispatcher_(std::make_unique<Dispatcher>(*target_)),
      t0_us_(g_get_monotonic_time()) {}

Result<std::unique_ptr<ControlHub>> ControlHub::create(Options options, std::function<void()> quit) {
  std::unique_ptr<ControlHub> h(new ControlHub(std::move(options), std::move(quit)));
  if (!h->options_.events_path.empty()) {
    if (h->options_.events_path == "-") {
      h->events_ = stdout;
    } else {
      h->events_ = std::fopen(h->options_.events_path.c_str(), "a");
      if (!h->events_)
        return Error{ExitCode::CantCreate, fmt::format("--events {}: {}", h->options_.events_path, strerror(errno))};
      h->events_owned_ = true;
    }
  }
  if (!h->options_.socket_path.empty()) {
    ControlServer::Options so;
    so.path = h->options_.socket_path;
    so.mode = h->options_.socket_mode;
    auto server = ControlServer::create(so, *h->dispatcher_);
    if (!server) return server.error();
    h->server_ = std::move(*server);
  }
  return h;
}

ControlHub::~ControlHub() {
  detach();
  step_timer_.cancel();
  server_.reset();  // removes the socket file
  if (events_ && events_owned_) std::fclose(events_);
  else if (events_) std::fflush(events_);
}

double ControlHub::now_s() const { return static_cast<double>(g_get_monotonic_time() - t0_us_) / 1e6; }

void ControlHub::attach(call::CallSession& session) {
  session_ = &session;
  target_->session = &session;
  session.set_event_listener([this](const call::SessionEvent& e) {
    GUnique<JsonObject> f(json_object_new());
    for (const auto& [k, v] : e.fields) {
      if (const auto* s = std::get_if<std::string>(&v)) json_object_set_string_member(f.get(), k.c_str(), s->c_str());
      else if (const auto* b = std::get_if<bool>(&v)) json_object_set_boolean_member(f.get(), k.c_str(), *b);
      else if (const double d = std::get<double>(v); d == static_cast<double>(static_cast<int64_t>(d)))
        json_object_set_int_member(f.get(), k.c_str(), static_cast<int64_t>(d));
      else json_object_set_double_member(f.get(), k.c_str(), d);
    }
    publish(e.name, f.get());
    if (e.name == "connected" && !script_started_) on_connected_first();
  });
  session.set_stats_listener([this](const stats::Snapshot& snap) {
    auto node = parse_json(stats::snapshot_to_json(snap));
    if (!node) return;
    GUnique<JsonObject> f(json_object_new());
    json_object_set_member(f.get(), "stats", node.release());
    publish("stats", f.get());
  });
}

void ControlHub::detach() {
  if (!session_) return;
  session_->set_event_listener({});
  session_->set_stats_listener({});
  session_ = nullptr;
  target_->session = nullptr;
  step_timer_.cancel();
}

void ControlHub::publish(const std::string& name, JsonObject* fields) {
  const std::string line = event_line(name, now_s(), fields);
  if (server_) server_->publish(name, line);
  if (events_) {
    if (std::fputs(line.c_str(), events_) < 0 || std::fputc('\n', events_) < 0 || std::fflush(events_) != 0) {
      log()->error("--events {}: {}: no more events are written", options_.events_path, strerror(errno));
      if (events_owned_) std::fclose(events_);
      events_ = nullptr;
    }
  }
}

// ---- --script ---------------------------------------------------------------

void ControlHub::on_connected_first() {
  script_started_ = true;
  if (options_.script.empty()) return;
  script_t0_us_ = g_get_monotonic_time();
  log()->info("script: {} step(s), timed from now (the first connection)", options_.script.size());
  schedule_step(0);
}

void ControlHub::schedule_step(size_t i) {
  if (i >= options_.script.size()) return;
  const int64_t elapsed_ms = (g_get_monotonic_time() - script_t0_us_) / 1000;
  const int64_t wait = std::max<int64_t>(0, options_.script[i].at.count() - elapsed_ms);
  step_timer_.start_once(std::chrono::milliseconds(wait), [this, i] { run_step(i); });
}

void ControlHub::run_step(size_t i) {
  const ScriptStep& step = options_.script[i];
  auto outcome = dispatcher_->execute(step.command, nullptr, nullptr);
  if (outcome.ok) {
    log()->info("script line {}: {}", step.line, step.text);
  } else {
    log()->error("script line {}: {}: {}", step.line, step.text, outcome.line);
    GUnique<JsonObject> f(json_object_new());
    json_object_set_string_member(f.get(), "message", fmt::format("script line {} refused", step.line).c_str());
    json_object_set_int_member(f.get(), "line", step.line);
    json_object_set_string_member(f.get(), "reply", outcome.line.c_str());
    publish("error", f.get());
  }
  // The step may have ended the run (quit) or torn the call down: the
  // next one still waits for its time, and detach() cancels it.
  if (session_) schedule_step(i + 1);
}

}  // namespace callagent::control
