// `callagent join ROOM`: a call with media (README "join"). This file is the
// command's main loop: it checks the command line, resolves the
// credentials, creates the room if asked, runs the call session on the main
// loop until it ends or a signal arrives, and hands the outcome to
// JoinReport. The options are in join_options.h, their translation in
// join_session_options.h, the report in join_report.h.
#include "cli/join_command.h"

#include "call/call_session.h"
#include "cli/join_ops.h"
#include "cli/join_options.h"
#include "cli/join_report.h"
#include "cli/join_session_options.h"
#include "cli/output_paths.h"
#include "common/gref.h"
#include "common/logging.h"
#include "common/main_context.h"
#include "control/control_hub.h"
#include "control/script.h"
#include "media/plugin_check.h"
#include "signaling/http_client.h"
#include "signaling/room_url.h"

#include <CLI/CLI.hpp>

#include <gst/gst.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>

namespace callagent::cli {

namespace {

constexpr const char* kExamples = R"(Examples:
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
)";

class JoinCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    auto* app = parent.add_subcommand("join", "Join a room and make a call with media");
    app->footer(std::string(kExamples) + exit_code_help(kJoin));
    add_join_options(*app, options_);
    return app;
  }

  ExitCode run() override;

 private:
  JoinOptions options_;
};

ExitCode JoinCommand::run() {
  const JoinOptions& jo = options_;
  apply_logging_options(jo.log);
  auto log = logging::get("cli");
  if (jo.room.empty() && !jo.create) {
    log->error("join: give a ROOM (URL or id with --server), or --create");
    return ExitCode::Usage;
  }
  if (!jo.room.empty() && jo.create) {
    log->error("join: give either a ROOM or --create, not both");
    return ExitCode::Usage;
  }
  auto opts = to_session_options(jo);
  if (!opts) {
    log->error("{}", opts.error().message);
    return opts.error().code;
  }
  auto expectations = parse_expectations(jo.expect);
  if (!expectations) {
    log->error("{}", expectations.error().message);
    return expectations.error().code;
  }
  // The control options before anything else: a bad --script line is a
  // usage error before any login.
  control::ControlHub::Options control_opts;
  control_opts.socket_path = jo.control;
  control_opts.events_path = jo.events;
  {
    char* end = nullptr;
    const unsigned long mode = std::strtoul(jo.control_mode.c_str(), &end, 8);
    if (jo.control_mode.empty() || *end != '\0' || mode > 0777 || (mode & 0600) != 0600) {
      log->error("--control-mode {}: an octal file mode with at least 0600 (e.g. 0600, 0660)", jo.control_mode);
      return ExitCode::Usage;
    }
    control_opts.socket_mode = static_cast<unsigned>(mode);
  }
  if (!jo.script.empty()) {
    auto script = control::load_script(jo.script);
    if (!script) {
      log->error("{}", script.error().message);
      return script.error().code;
    }
    control_opts.script = std::move(*script);
  }
  // Every exit from here on writes the report (when asked).
  JoinReport report(jo);
  report.set_expectations(std::move(*expectations));
  // A call that never ran still reports the warm-up it was given.
  stats::CallData data;
  data.warmup_s = opts->stats.warmup_s;
  auto give_up = [&](const Error& e) {
    log->error("{}", e.message);
    return report.conclude(e.code, e.message, std::move(data));
  };
  // Outputs before anything else: a path that cannot be written fails now
  // (73), not after the call connected.
  if (auto st = check_join_outputs(jo); !st) return give_up(st.error());
  // The socket is refused (73) before any login: PATH in use, not a socket.
  std::function<void()> control_quit;  // set below, once the loop exists
  std::unique_ptr<control::ControlHub> hub;
  if (!jo.control.empty() || !jo.events.empty() || !control_opts.script.empty()) {
    auto h = control::ControlHub::create(std::move(control_opts), [&control_quit] {
      if (control_quit) control_quit();
    });
    if (!h) return give_up(h.error());
    hub = std::move(*h);
  }
  auto creds = resolve_credentials(jo.conn);
  if (!creds) return give_up(creds.error());
  opts->signaling.credentials = *creds;

  // The title of the windows the X11 video sinks open for --display.
  g_set_application_name("callagent");
  gst_init(nullptr, nullptr);
  // Plugins first: a missing one fails before any network I/O.
  if (auto st = media::check_plugins(opts->media); !st) return give_up(st.error());

  GUnique<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
  std::optional<ExitCode> result;
  std::string reason;
  std::unique_ptr<call::CallSession> session;
  // systemd (READY, STATUS, watchdog) and --metrics.
  auto ops = JoinOps::create(jo.metrics, [&]() -> const call::CallSession* { return session.get(); });
  if (!ops) return give_up(ops.error());
  auto end = [&](ExitCode c, const std::string& why) {
    result = c;
    reason = why;
    g_main_loop_quit(loop.get());
  };
  auto fail = [&](const Error& e) { end(e.code, e.message); };
  auto start_session = [&] {
    auto s = call::CallSession::create(*opts, end);
    if (!s) return fail(s.error());
    session = std::move(*s);
    if (hub) hub->attach(*session);
    session->start();
  };

  bool stopping = false;
  auto stop = [&](const char* sig) {
    log->info("{} received: leaving the call", sig);
    (*ops)->stopping(std::string("leaving the call: stopped by ") + sig);
    if (session) {
      session->finish(ExitCode::Ok, std::string("stopped by ") + sig);
    } else if (!stopping) {
      fail(Error{ExitCode::Ok, std::string("stopped by ") + sig});
    }
    stopping = true;
  };
  // The control socket's `quit` (and a --script quit) is what SIGTERM does;
  // posted, so the reply goes out before the teardown starts.
  Lifetime quit_guard = make_lifetime();
  control_quit = [&] {
    post(g_main_context_get_thread_default(), quit_guard, [&] { stop("the control command quit"); });
  };
  UnixSignalWatch sigint(SIGINT, [&] { stop("SIGINT"); });
  UnixSignalWatch sigterm(SIGTERM, [&] { stop("SIGTERM"); });

  std::unique_ptr<signaling::HttpClient> http;
  if (jo.create) {
    auto server = signaling::normalize_server_url(jo.conn.server);
    if (!server) return give_up(server.error());
    signaling::HttpOptions ho;
    ho.base_url = *server;
    ho.ca_file = jo.conn.ca_file;
    ho.insecure = jo.conn.insecure;
    auto h = signaling::HttpClient::create(ho, *creds);
    if (!h) return give_up(h.error());
    http = std::move(*h);
    http->create_room([&](Result<std::string> url) {
      if (!url) return fail(url.error());
      std::cout << *url << std::endl;  // the first line on stdout, for scripts
      auto room = signaling::parse_room_target(*url, jo.conn.server);
      if (!room) return fail(room.error());
      opts->signaling.base_url = room->base_url;
      opts->signaling.room_id = room->room_id;
      if (!stopping) start_session();
    });
  } else {
    start_session();
  }
  if (!result) g_main_loop_run(loop.get());
  (*ops)->stopping("leaving the call: " + reason);
  std::vector<std::string> snapshots;
  if (session && session->stats()) {
    data = session->stats()->data();
    snapshots = session->snapshots();
  }
  if (session) report.set_failures(session->connect_failure(), session->output_failures());
  control_quit = nullptr;
  if (hub) hub->detach();
  session.reset();
  http.reset();
  ExitCode code = result.value_or(ExitCode::Software);
  if (code == ExitCode::Ok)
    log->info("call ended: {}", reason);
  else
    log->error("call ended: {} (exit {} {})", reason, to_int(code), exit_code_name(code));
  return report.conclude(code, reason, std::move(data), std::move(snapshots));
}

}  // namespace

std::unique_ptr<Command> make_join_command() { return std::make_unique<JoinCommand>(); }

}  // namespace callagent::cli
