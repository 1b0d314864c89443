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
#include "stats/expectation.h"
#include "stats/report.h"

#include "callagent_config.h"

#include <gst/gst.h>

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <map>

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
Exit codes: 0 ok, 1 an --expect failed, 2 nobody came (--wait-for-partner),
3 call failed, 64 usage, 66 missing input file, 67 room not found, 69 server
unreachable, 73 an output (file, speaker) cannot be opened, 75 room full,
77 bad credentials, 78 configuration (e.g. a missing GStreamer plugin), 79 TLS.
The full table is in README.md.)");
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
    app->add_flag("!--no-echo-cancel", echo_cancel_,
                  "Keep noise suppression and gain control but no echo cancellation (a headset, "
                  "or a speakerphone that cancels echo itself)")->group(m);
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
    app->add_flag("--fullscreen,!--no-fullscreen", fullscreen_,
                  "Show the video full screen (the default with --display), or in a window of the video's size")
        ->group(o);
    app->add_option("--record", record_, "Record the remote VP8/Opus to FILE.mkv or FILE.webm")->group(o);
    app->add_option("--rtmp", rtmp_, "Restream the remote media as H.264/AAC to rtmp://...")->group(o);
    app->add_option("--pipeline-graph", dot_dir_,
                    "Write pipeline graphs (.dot, and .svg with graphviz) to this directory: at PLAYING, "
                    "at the first remote video, and on errors")
        ->group(o);
    app->add_option("--snapshot", snapshot_, "Write the last remote video frame to FILE.png at exit")->group(o);
    app->add_option("--snapshot-every", snapshot_every_,
                    "Also write a numbered series FILE-0001.png, ... this often (e.g. 10s; needs --snapshot)")
        ->group(o);

    auto* q = "Call quality (docs/report.md)";
    app->add_option("--stats-interval", stats_interval_, "Poll webrtcbin statistics this often (0: never)")
        ->capture_default_str()->group(q);
    app->add_option("--stats-log", stats_log_, "Append one JSON object per stats interval to FILE")->group(q);
    app->add_option("--report", report_, "Write a JSON report to FILE at exit (also after failures)")->group(q);
    app->add_option("--junit", junit_, "Write the expectations as JUnit XML to FILE at exit")->group(q);
    app->add_option("--expect", expect_,
                    "Assert on the call, e.g. video.in.fps>=25, video.in.freezes==0, setup.first_video<2s "
                    "(repeatable; a failure exits 1)")
        ->group(q);
    app->add_option("--warm-up", warmup_, "Ignore this long after the connection for --expect and the summary")
        ->capture_default_str()->group(q);
    app->add_flag("--latency-probe", latency_probe_,
                  "Stamp sent video with the capture time and measure the glass-to-glass delay of received "
                  "video (both agents need it; same machine or synchronized clocks)")
        ->group(q);
    app->add_flag("!--no-status", status_, "No live status line")->group(q);
    // Test only: pause the sent video AT after connecting, for FOR (freeze tests).
    app->add_option("--test-freeze-at", test_freeze_, "")->group("");
    // Test only: delay sent video by this much after the latency stamp.
    app->add_option("--test-send-delay", test_send_delay_, "")->group("");

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
    std::vector<stats::Expectation> expectations;
    for (const auto& text : expect_) {
      auto e = stats::parse_expectation(text);
      if (!e) {
        log->error("{}", e.error().message);
        return e.error().code;
      }
      expectations.push_back(*e);
    }
    started_at_ = stats::iso8601_now();
    started_ = std::chrono::steady_clock::now();
    stats::CallData data;
    data.warmup_s = opts->stats.warmup_s;
    std::vector<std::string> snapshots;
    // Every exit from here on writes the report (when asked).
    auto finish = [&](ExitCode code, const std::string& reason) {
      return conclude(code, reason, data, snapshots, expectations);
    };
    auto creds = resolve_credentials(conn_);
    if (!creds) {
      log->error("{}", creds.error().message);
      return finish(creds.error().code, creds.error().message);
    }
    opts->signaling.credentials = *creds;
    opts->signaling.ca_file = conn_.ca_file;
    opts->signaling.insecure = conn_.insecure;
    opts->signaling.reconnect = reconnect_;
    opts->mute_audio = mute_audio_;
    opts->mute_video = mute_video_;

    // The title of the windows the X11 video sinks open for --display.
    g_set_application_name("callagent");
    gst_init(nullptr, nullptr);
    // Plugins first: a missing one fails before any network I/O.
    if (auto st = media::check_plugins(opts->media); !st) {
      log->error("{}", st.error().message);
      return finish(st.error().code, st.error().message);
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
        return finish(server.error().code, server.error().message);
      }
      signaling::HttpOptions ho;
      ho.base_url = *server;
      ho.ca_file = conn_.ca_file;
      ho.insecure = conn_.insecure;
      auto h = signaling::HttpClient::create(ho, *creds);
      if (!h) {
        log->error("{}", h.error().message);
        return finish(h.error().code, h.error().message);
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
    if (session && session->stats()) {
      data = session->stats()->data();
      snapshots = session->snapshots();
    }
    session.reset();
    http.reset();
    ExitCode code = result.value_or(ExitCode::Software);
    if (code == ExitCode::Ok)
      log->info("call ended: {}", reason);
    else
      log->error("call ended: {} (exit {} {})", reason, to_int(code), exit_code_name(code));
    return finish(code, reason);
  }

  // Evaluates the expectations, writes --report and --junit, and returns
  // the final exit code: a failed expectation turns Ok into
  // ExpectationFailed; another failure keeps its own (more specific) code.
  ExitCode conclude(ExitCode code, const std::string& reason, const stats::CallData& data,
                    const std::vector<std::string>& snapshots,
                    const std::vector<stats::Expectation>& expectations) {
    auto log = logging::get("cli");
    stats::ReportInput r;
    r.version = CALLAGENT_VERSION;
    r.options = report_options();
    r.started_at = started_at_;
    r.ended_at = stats::iso8601_now();
    r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    r.latency_probe = latency_probe_;
    r.data = data;
    r.summary = stats::summarize(data);
    r.snapshots = snapshots;
    int failed = 0;
    for (const auto& e : expectations) {
      auto res = stats::evaluate(e, r.summary);
      if (res.passed) {
        log->info("expectation passed: {}: {}", e.text, res.message);
      } else {
        ++failed;
        log->error("expectation FAILED: {}: {}", e.text, res.message);
      }
      r.expectations.push_back(std::move(res));
    }
    std::string why = reason;
    if (failed && code == ExitCode::Ok) {
      code = ExitCode::ExpectationFailed;
      why = fmt::format("{} of {} expectation(s) failed (call ended: {})", failed, expectations.size(), reason);
      log->error("{}", why);
    }
    r.exit_code = to_int(code);
    r.exit_name = std::string(exit_code_name(code));
    r.exit_reason = why;
    if (!report_.empty()) {
      if (auto st = stats::write_text_file(report_, stats::report_to_json(r)); !st)
        log->error("--report: {}", st.error().message);
      else
        log->info("report: {}", report_);
    }
    if (!junit_.empty()) {
      if (auto st = stats::write_text_file(junit_, stats::junit_xml(r.expectations, r.duration_s, why)); !st)
        log->error("--junit: {}", st.error().message);
    }
    return code;
  }

  // The options as used, for the report. No secrets: no password, token or
  // password file; TURN credentials and RTMP stream keys are masked.
  std::map<std::string, stats::OptionValue> report_options() const {
    std::map<std::string, stats::OptionValue> o;
    auto opt_str = [&](const char* k, const std::string& v) {
      if (!v.empty()) o[k] = v;
    };
    opt_str("room", room_);
    o["create"] = create_;
    opt_str("server", conn_.server);
    opt_str("user", conn_.user);
    o["credentials"] = std::string(!conn_.token.empty() ? "token"
                                   : !conn_.password_file.empty() ? "password-file"
                                   : !conn_.password.empty() ? "password-option"
                                                             : "environment");
    o["video_source"] = video_source_;
    o["audio_source"] = audio_source_;
    o["video"] = video_preset_;
    o["fps"] = static_cast<double>(fps_);
    o["audio"] = audio_preset_;
    o["video_codec"] = codec_;
    if (video_bitrate_) o["video_bitrate"] = static_cast<double>(*video_bitrate_);
    if (audio_bitrate_) o["audio_bitrate"] = static_cast<double>(*audio_bitrate_);
    o["stun"] = no_stun_ ? std::string("none") : stun_;
    std::vector<std::string> turns;
    for (const auto& t : turn_) {
      auto at = t.find('@');
      auto scheme = t.find("://");
      turns.push_back(at == std::string::npos ? t
                                              : t.substr(0, scheme == std::string::npos ? 0 : scheme + 3) +
                                                    "***" + t.substr(at));
    }
    if (!turns.empty()) o["turn"] = turns;
    if (!ice_ips_.empty()) o["ice_ip"] = ice_ips_;
    o["jitter_buffer_ms"] = static_cast<double>(jitter_ms_);
    o["display"] = display_;
    opt_str("record", record_);
    if (!rtmp_.empty()) {
      auto slash = rtmp_.rfind('/');
      o["rtmp"] = slash != std::string::npos && slash > rtmp_.find("://") + 2 ? rtmp_.substr(0, slash + 1) + "***"
                                                                          : std::string("***");
    }
    opt_str("duration", duration_);
    opt_str("wait_for_partner", wait_for_partner_);
    o["leave_when_alone"] = leave_when_alone_;
    o["stats_interval"] = stats_interval_;
    opt_str("stats_log", stats_log_);
    opt_str("report", report_);
    opt_str("junit", junit_);
    o["expect"] = expect_;
    o["warm_up"] = warmup_;
    o["latency_probe"] = latency_probe_;
    opt_str("snapshot", snapshot_);
    opt_str("snapshot_every", snapshot_every_);
    opt_str("pipeline_graph", dot_dir_);
    opt_str("test_freeze_at", test_freeze_);
    opt_str("test_send_delay", test_send_delay_);
    return o;
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
    m.echo_cancel = echo_cancel_;
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

    auto si = parse_duration(stats_interval_, "--stats-interval");
    if (!si) return si.error();
    if (si->count() > 0 && si->count() < 50)
      return Error{ExitCode::Usage, "--stats-interval: at least 50ms (or 0 for none)"};
    o.stats.interval = *si;
    o.stats.log_path = stats_log_;
    auto wu = parse_duration(warmup_, "--warm-up");
    if (!wu) return wu.error();
    o.stats.warmup_s = static_cast<double>(wu->count()) / 1000.0;
    o.status_line = status_;
    o.status_tty = isatty(STDERR_FILENO) != 0;
    if (!snapshot_.empty()) {
      auto n = snapshot_.size();
      if (n < 5 || snapshot_.compare(n - 4, 4, ".png") != 0)
        return Error{ExitCode::Usage, "--snapshot: '" + snapshot_ + "' must end in .png"};
    }
    o.snapshot_path = snapshot_;
    if (!snapshot_every_.empty()) {
      if (snapshot_.empty()) return Error{ExitCode::Usage, "--snapshot-every needs --snapshot FILE.png"};
      auto d = parse_duration(snapshot_every_, "--snapshot-every");
      if (!d) return d.error();
      if (d->count() < 100) return Error{ExitCode::Usage, "--snapshot-every: at least 100ms"};
      o.snapshot_every = *d;
    }
    m.latency_stamp = latency_probe_;
    m.frame_log = si->count() > 0;
    m.keep_last_frame = !snapshot_.empty();
    if (!test_send_delay_.empty()) {
      auto d = parse_duration(test_send_delay_, "--test-send-delay");
      if (!d) return d.error();
      m.test_send_delay_ms = static_cast<unsigned>(d->count());
    }
    if (!test_freeze_.empty()) {
      auto colon = test_freeze_.find(':');
      if (colon == std::string::npos)
        return Error{ExitCode::Usage, "--test-freeze-at: use AT:FOR, e.g. 3s:2s"};
      auto at = parse_duration(test_freeze_.substr(0, colon), "--test-freeze-at");
      if (!at) return at.error();
      auto len = parse_duration(test_freeze_.substr(colon + 1), "--test-freeze-at");
      if (!len) return len.error();
      o.test_freeze = std::make_pair(*at, *len);
    }

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
  bool echo_cancel_ = true;
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
  std::string snapshot_;
  std::string snapshot_every_;
  std::string stats_interval_ = "1s";
  std::string stats_log_;
  std::string report_;
  std::string junit_;
  std::vector<std::string> expect_;
  std::string warmup_ = "2s";
  bool latency_probe_ = false;
  bool status_ = true;
  std::string test_freeze_;
  std::string test_send_delay_;
  std::string started_at_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

std::unique_ptr<Command> make_join_command() { return std::make_unique<JoinCommand>(); }

}  // namespace callagent::cli
