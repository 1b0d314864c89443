// `callagent join ROOM`: a call with media. See README "join".
#include "cli/join_command.h"

#include "call/call_session.h"
#include "cli/common_options.h"
#include "cli/duration.h"
#include "common/logging.h"
#include "common/main_context.h"
#include "media/media_options.h"
#include "media/plugin_check.h"
#include "signaling/http_client.h"
#include "signaling/room_url.h"

#include <gst/gst.h>

#include <csignal>
#include <iostream>
#include <optional>

namespace callagent::cli {

namespace {

constexpr const char* kDefaultStun = "stun://stun.l.google.com:19302";

class JoinCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    auto* app = parent.add_subcommand("join", "Join a room and make a call with media");
    app->footer(R"(Examples:
  # CI: a 30 s call with test sources, ICE on loopback only, no STUN
  CALLAGENT_PASSWORD=secret callagent join http://127.0.0.1:8080/room/ID \
      --video-source test --audio-source test --video 720p --duration 30s \
      --ice-ip 127.0.0.1 --no-stun --wait-for-partner 60s

  # Recording bot: create a room, print its URL, record the partner, leave with it
  callagent join --create --server https://chat.example.com --password-file pw \
      --video-source none --audio-source none --record call.mkv --leave-when-alone

  # Room terminal: camera and microphone, remote party full screen
  callagent join https://chat.example.com/room/ID --password-file /etc/callagent/pw \
      --video-source v4l2:/dev/video0 --audio-source alsa --display --video-sink kmssink

ROOM is a room URL (http(s)://host[:port]/room/<id>) or a bare id with --server.
Exit codes: 0 ok, 2 nobody came (--wait-for-partner), 3 call failed, 64 usage,
66 missing input file, 67 room not found, 69 server unreachable, 75 room full,
77 bad credentials, 78 configuration (e.g. a missing GStreamer plugin), 79 TLS.)");
    app->add_option("room", room_, "Room URL, or room id with --server");
    app->add_flag("--create", create_, "Create a new room first and print its URL on stdout");
    add_connection_options(*app, conn_);
    add_logging_options(*app, log_);
    app->add_flag("!--no-reconnect", reconnect_, "Give up when the signaling connection drops");

    auto* m = "Sending";
    app->add_option("--video-source", video_source_,
                    "auto | test | v4l2[:DEVICE] | file:PATH | none")
        ->capture_default_str()->group(m);
    app->add_option("--audio-source", audio_source_,
                    "auto | test | alsa[:DEVICE] | pulse[:DEVICE] | file:PATH | none")
        ->capture_default_str()->group(m);
    app->add_flag("--loop", loop_, "Loop file sources instead of ending the call at their end")->group(m);
    app->add_option("--video", video_preset_, "Video preset: 4k | 1080p | 720p | 480p")
        ->capture_default_str()->group(m);
    app->add_option("--fps", fps_, "Frame rate: 60 | 30 | 24")->capture_default_str()->group(m);
    app->add_option("--audio", audio_preset_,
                    "Audio preset: high (48 kHz stereo) | medium (44.1 kHz stereo) | low (32 kHz mono)")
        ->capture_default_str()->group(m);
    app->add_option("--video-codec", codec_, "vp8 | vp9 | h264")->capture_default_str()->group(m);
    app->add_option("--video-bitrate", video_bitrate_, "Video bitrate in kbit/s (default: by preset)")
        ->check(CLI::Range(50, 50000))->group(m);
    app->add_option("--audio-bitrate", audio_bitrate_, "Opus bitrate in kbit/s (default: by preset)")
        ->check(CLI::Range(6, 510))->group(m);
    app->add_flag("!--no-audio-processing", audio_processing_,
                  "No echo cancellation / noise suppression / gain control on a microphone")->group(m);
    app->add_flag("--mute-audio", mute_audio_, "Start with the microphone muted (silence is sent)")->group(m);
    app->add_flag("--mute-video", mute_video_, "Start with the camera off (black frames are sent)")->group(m);

    auto* n = "Network";
    app->add_option("--stun", stun_, "STUN server (stun:host:port)")->capture_default_str()->group(n);
    app->add_flag("--no-stun", no_stun_, "Use no STUN server")->group(n);
    app->add_option("--turn", turn_, "TURN server turn(s)://user:pass@host:port (repeatable)")->group(n);
    app->add_option("--ice-ip", ice_ips_,
                    "Gather ICE candidates only on this local address (repeatable; tests use 127.0.0.1)")
        ->group(n);
    app->add_option("--jitter-buffer", jitter_ms_, "Receive jitter buffer in ms")
        ->check(CLI::Range(0, 5000))->capture_default_str()->group(n);

    auto* o = "Remote media";
    app->add_flag("--display", display_, "Show the remote video and play its audio")->group(o);
    app->add_option("--video-sink", video_sink_, "Video sink element for --display (e.g. kmssink)")
        ->group(o);
    app->add_option("--audio-sink", audio_sink_, "Audio sink element for --display")->group(o);
    app->add_flag("!--no-fullscreen", fullscreen_, "Do not ask the video sink for full screen")->group(o);
    app->add_option("--record", record_, "Record the remote VP8/Opus to FILE.mkv or FILE.webm")->group(o);
    app->add_option("--rtmp", rtmp_, "Restream the remote media as H.264/AAC to rtmp://...")->group(o);
    app->add_option("--pipeline-graph", dot_dir_, "Write pipeline graphs (.dot) to this directory on errors")
        ->group(o);

    auto* l = "Lifetime";
    app->add_option("--duration", duration_, "End the call this long after it first connected (e.g. 30s)")
        ->group(l);
    app->add_flag("--leave-when-alone", leave_when_alone_, "End when the partner leaves")->group(l);
    app->add_option("--wait-for-partner", wait_for_partner_,
                    "Fail with exit code 2 if nobody joins within this time (e.g. 60s)")
        ->group(l);
    app_ = app;
    return app;
  }

  ExitCode run() override {
    apply_logging_options(log_);
    auto log = logging::get("cli");
    if (room_.empty() && !create_) {
      log->error("join: give a ROOM (URL or id with --server), or --create");
      return ExitCode::Usage;
    }
    if (!room_.empty() && create_) {
      log->error("join: give either a ROOM or --create, not both");
      return ExitCode::Usage;
    }
    auto opts = build_options();
    if (!opts) {
      log->error("{}", opts.error().message);
      return opts.error().code;
    }
    auto creds = resolve_credentials(conn_);
    if (!creds) {
      log->error("{}", creds.error().message);
      return creds.error().code;
    }
    opts->signaling.credentials = *creds;
    opts->signaling.ca_file = conn_.ca_file;
    opts->signaling.insecure = conn_.insecure;
    opts->signaling.reconnect = reconnect_;
    opts->mute_audio = mute_audio_;
    opts->mute_video = mute_video_;

    gst_init(nullptr, nullptr);
    // Plugins first: a missing one fails before any network I/O.
    if (auto st = media::check_plugins(opts->media); !st) {
      log->error("{}", st.error().message);
      return st.error().code;
    }
    g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
    std::optional<ExitCode> result;
    std::string reason;
    std::unique_ptr<call::CallSession> session;
    auto fail = [&](const Error& e) {
      result = e.code;
      reason = e.message;
      g_main_loop_quit(loop);
    };
    auto start_session = [&] {
      auto s = call::CallSession::create(*opts, [&](ExitCode c, const std::string& why) {
        result = c;
        reason = why;
        g_main_loop_quit(loop);
      });
      if (!s) return fail(s.error());
      session = std::move(*s);
      session->start();
    };

    bool stopping = false;
    auto stop = [&](const char* sig) {
      log->info("{} received: leaving the call", sig);
      if (session) {
        session->finish(ExitCode::Ok, std::string("stopped by ") + sig);
      } else if (!stopping) {
        fail(Error{ExitCode::Ok, std::string("stopped by ") + sig});
      }
      stopping = true;
    };
    UnixSignalWatch sigint(SIGINT, [&] { stop("SIGINT"); });
    UnixSignalWatch sigterm(SIGTERM, [&] { stop("SIGTERM"); });

    std::unique_ptr<signaling::HttpClient> http;
    if (create_) {
      auto server = signaling::normalize_server_url(conn_.server);
      if (!server) {
        log->error("{}", server.error().message);
        return server.error().code;
      }
      signaling::HttpOptions ho;
      ho.base_url = *server;
      ho.ca_file = conn_.ca_file;
      ho.insecure = conn_.insecure;
      auto h = signaling::HttpClient::create(ho, *creds);
      if (!h) {
        log->error("{}", h.error().message);
        return h.error().code;
      }
      http = std::move(*h);
      http->create_room([&](Result<std::string> url) {
        if (!url) return fail(url.error());
        std::cout << *url << std::endl;  // the first line on stdout, for scripts
        auto room = signaling::parse_room_target(*url, conn_.server);
        if (!room) return fail(room.error());
        opts->signaling.base_url = room->base_url;
        opts->signaling.room_id = room->room_id;
        if (!stopping) start_session();
      });
    } else {
      start_session();
    }
    if (!result) g_main_loop_run(loop);
    session.reset();
    http.reset();
    ExitCode code = result.value_or(ExitCode::Software);
    if (code == ExitCode::Ok)
      log->info("call ended: {}", reason);
    else
      log->error("call ended: {} (exit {} {})", reason, to_int(code), exit_code_name(code));
    return code;
  }

 private:
  Result<call::SessionOptions> build_options() {
    call::SessionOptions o;
    if (!room_.empty()) {
      auto t = signaling::parse_room_target(room_, conn_.server);
      if (!t) return t.error();
      o.signaling.base_url = t->base_url;
      o.signaling.room_id = t->room_id;
    } else if (conn_.server.empty()) {
      return Error{ExitCode::Usage, "join --create needs --server URL"};
    }
    auto& m = o.media;
    auto vs = media::parse_source_spec(video_source_, media::MediaKind::Video);
    if (!vs) return vs.error();
    auto as = media::parse_source_spec(audio_source_, media::MediaKind::Audio);
    if (!as) return as.error();
    m.video_source = *vs;
    m.audio_source = *as;
    if (loop_) m.video_source.loop = m.audio_source.loop = true;
    auto vp = media::parse_video_preset(video_preset_, fps_);
    if (!vp) return vp.error();
    m.video = *vp;
    if (video_bitrate_) m.video.bitrate_kbps = *video_bitrate_;
    auto ap = media::parse_audio_preset(audio_preset_);
    if (!ap) return ap.error();
    m.audio = *ap;
    if (audio_bitrate_) m.audio.bitrate_kbps = *audio_bitrate_;
    auto vc = media::parse_video_codec(codec_);
    if (!vc) return vc.error();
    m.codec = *vc;
    m.audio_processing = audio_processing_;
    m.latency_ms = static_cast<unsigned>(jitter_ms_);
    if (!no_stun_ && !stun_.empty()) {
      // Accept the browser form "stun:host:port" as well as GStreamer's "stun://host:port".
      std::string s = stun_;
      if (s.rfind("stun:", 0) == 0 && s.rfind("stun://", 0) != 0) s = "stun://" + s.substr(5);
      m.ice.stun_url = s;
    }
    m.ice.turn_urls = turn_;
    m.ice.local_addresses = ice_ips_;
    if (display_) {
      m.output.video_sink = video_sink_.empty() ? "auto" : video_sink_;
      m.output.audio_sink = audio_sink_.empty() ? "auto" : audio_sink_;
    } else if (!video_sink_.empty() || !audio_sink_.empty()) {
      m.output.video_sink = video_sink_;
      m.output.audio_sink = audio_sink_;
    }
    m.output.fullscreen = fullscreen_;
    if (!record_.empty()) {
      auto ends = [&](const char* ext) {
        return record_.size() > strlen(ext) && record_.compare(record_.size() - strlen(ext), strlen(ext), ext) == 0;
      };
      if (!ends(".mkv") && !ends(".webm"))
        return Error{ExitCode::Usage, "--record: '" + record_ + "' must end in .mkv or .webm"};
    }
    m.output.record_path = record_;
    if (!rtmp_.empty() && rtmp_.rfind("rtmp://", 0) != 0 && rtmp_.rfind("rtmps://", 0) != 0)
      return Error{ExitCode::Usage, "--rtmp: '" + rtmp_ + "' is not an rtmp:// or rtmps:// URL"};
    m.output.rtmp_url = rtmp_;
    m.dot_dir = dot_dir_;

    auto& c = o.call;
    c.leave_when_alone = leave_when_alone_;
    if (!duration_.empty()) {
      auto d = parse_duration(duration_, "--duration");
      if (!d) return d.error();
      c.duration = *d;
    }
    if (!wait_for_partner_.empty()) {
      auto d = parse_duration(wait_for_partner_, "--wait-for-partner");
      if (!d) return d.error();
      c.wait_for_partner = *d;
    }
    return o;
  }

  CLI::App* app_ = nullptr;
  ConnectionOptions conn_;
  LoggingOptions log_;
  std::string room_;
  bool create_ = false;
  bool reconnect_ = true;
  std::string video_source_ = "auto";
  std::string audio_source_ = "auto";
  bool loop_ = false;
  std::string video_preset_ = "1080p";
  int fps_ = 30;
  std::string audio_preset_ = "high";
  std::string codec_ = "vp8";
  std::optional<int> video_bitrate_;
  std::optional<int> audio_bitrate_;
  bool audio_processing_ = true;
  bool mute_audio_ = false;
  bool mute_video_ = false;
  std::string stun_ = "stun:stun.l.google.com:19302";
  bool no_stun_ = false;
  std::vector<std::string> turn_;
  std::vector<std::string> ice_ips_;
  int jitter_ms_ = 60;
  bool display_ = false;
  std::string video_sink_;
  std::string audio_sink_;
  bool fullscreen_ = true;
  std::string record_;
  std::string rtmp_;
  std::string dot_dir_;
  std::string duration_;
  bool leave_when_alone_ = false;
  std::string wait_for_partner_;
};

}  // namespace

std::unique_ptr<Command> make_join_command() { return std::make_unique<JoinCommand>(); }

}  // namespace callagent::cli
