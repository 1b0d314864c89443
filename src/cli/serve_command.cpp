#include "cli/serve_command.h"

#include "cli/common_options.h"
#include "cli/metrics_listener.h"
#include "common/gref.h"
#include "common/logging.h"
#include "common/main_context.h"
#include "common/systemd_notify.h"
#include "server/account.h"
#include "server/open_files.h"
#include "server/server.h"
#include "server/server_metrics.h"

#include <CLI/CLI.hpp>

#include <glib.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

namespace callagent::cli {

namespace {

class ServeCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    app_ = parent.add_subcommand(
        "serve",
        "Run a signaling server that speaks the messenger's protocol (rooms in SQLite).\n"
        "Prints its base URL as the first line on stdout.");
    add_logging_options(*app_, logging_);
    const char* g = "Server";
    app_->add_option("--listen", config_.listen,
                     "Address to listen on, HOST:PORT (port 0 picks a free port)")
        ->capture_default_str()
        ->group(g);
    app_->add_option("--db", config_.db_path,
                     "Room database (default $XDG_STATE_HOME/callagent/rooms.db)")
        ->group(g);
    app_->add_option("--user", config_.user, "Account name")->capture_default_str()->group(g);
    auto* pw = app_->add_option("--password-file", password_file_,
                                "Read the account password from this file (first line); "
                                "otherwise from CALLAGENT_PASSWORD")
                   ->group(g);
    app_->add_flag("--demo", demo_,
                   "Generate a random password and print it once on stdout (for trying things out)")
        ->excludes(pw)
        ->group(g);
    auto* cert = app_->add_option("--tls-cert", config_.tls_cert,
                                  "Serve https/wss with this certificate (PEM)")
                     ->check(CLI::ExistingFile)
                     ->group(g);
    auto* key = app_->add_option("--tls-key", config_.tls_key, "Private key for --tls-cert (PEM)")
                    ->check(CLI::ExistingFile)
                    ->group(g);
    cert->needs(key);
    key->needs(cert);

    const char* l = "Limits";
    app_->add_option("--max-rooms", config_.max_rooms, "Rooms the database may hold")
        ->capture_default_str()
        ->group(l);
    app_->add_option("--max-connections", config_.max_connections, "WebSocket connections at once")
        ->capture_default_str()
        ->group(l);
    app_->add_option("--max-sessions", config_.max_sessions, "Login sessions held at once")
        ->capture_default_str()
        ->group(l);
    app_->add_option("--login-attempts", config_.login_failures_per_minute,
                     "Failed logins allowed per client address per minute")
        ->capture_default_str()
        ->check(CLI::Range(1u, 100000u))
        ->group(l);
    app_->add_option("--ws-keepalive", keepalive_s_,
                     "Seconds between WebSocket pings (a peer silent for 3 periods is dropped; 0 = off)")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400))
        ->group(l);
    app_->add_option("--metrics", metrics_,
                     "Serve Prometheus metrics at http://ADDR:PORT/metrics (PORT alone: on 127.0.0.1; "
                     "docs/metrics.md)")
        ->group("Operations");
    return app_;
  }

  ExitCode run() override {
    apply_logging_options(logging_);
    auto log = logging::get("server");
    // Each WebSocket holds a descriptor: take all the hard limit allows
    // (the server then caps connections to what fits, see open_files.h).
    const server::RaiseOutcome files = server::raise_open_files_limit();
    if (files.error.empty())
      log->info("{}", server::describe(files));
    else
      log->warn("{}", server::describe(files));

    std::string password;
    if (demo_) {
      password = server::Account::generate_password();
    } else if (!password_file_.empty()) {
      auto p = read_secret_file(password_file_);
      if (!p) {
        log->error("{}", p.error().message);
        return p.error().code;
      }
      password = std::move(*p);
    } else if (const char* env = std::getenv("CALLAGENT_PASSWORD"); env && *env) {
      password = env;
    } else {
      log->error(
          "serve needs the account's password: --password-file FILE, CALLAGENT_PASSWORD, or "
          "--demo for a random one");
      return ExitCode::Usage;
    }
    if (!metrics_.empty()) {
      if (auto a = MetricsListener::parse_address(metrics_); !a) {
        log->error("{}", a.error().message);
        return a.error().code;
      }
    }
    config_.password = password;
    config_.keepalive = std::chrono::seconds(keepalive_s_);

    auto created = server::Server::create(config_);
    if (!created) {
      log->error("{}", created.error().message);
      return created.error().code;
    }
    std::unique_ptr<server::Server> srv = std::move(*created);
    SystemdNotifier notifier;  // READY=1 once listening, the watchdog, STOPPING=1

    // Signals are watched before the URL is printed: a script that reads
    // the URL and stops the server at once must get a clean exit.
    GUnique<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
    bool stopping = false;
    auto on_signal = [&] {
      if (stopping) {
        // A second Ctrl-C: don't wait for slow peers.
        g_main_loop_quit(loop.get());
        return;
      }
      stopping = true;
      notifier.stopping("shutting down: closing " + std::to_string(srv->connection_count()) +
                        " WebSocket connection(s)");
      srv->stop([&] { g_main_loop_quit(loop.get()); });
    };
    UnixSignalWatch sigint(SIGINT, on_signal);
    UnixSignalWatch sigterm(SIGTERM, on_signal);

    auto url = srv->start();
    if (!url) {
      log->error("{}", url.error().message);
      return url.error().code;
    }
    // Scripts and tests read the first line of stdout: the base URL.
    std::cout << *url << std::endl;
    if (demo_) {
      std::cout << "demo account: user '" << config_.user << "', password '" << password
                << "' (shown only this once)" << std::endl;
    }
    std::fill(password.begin(), password.end(), '\0');

    std::unique_ptr<MetricsListener> metrics;
    if (!metrics_.empty()) {
      auto m = MetricsListener::start(metrics_, [&] { return server::server_metrics_text(*srv); });
      if (!m) {
        log->error("{}", m.error().message);
        return m.error().code;
      }
      metrics = std::move(*m);
    }
    // Now the server does its job: tell systemd, and keep the STATUS current.
    auto describe = [&] {
      return "listening on " + *url + ", " + std::to_string(srv->hub().active_rooms()) + " active room(s), " +
             std::to_string(srv->connection_count()) + " connection(s)";
    };
    notifier.ready(describe());
    Timeout status_timer;
    status_timer.start(std::chrono::seconds(1), [&] {
      if (!stopping) notifier.status(describe());
      return true;
    });

    g_main_loop_run(loop.get());
    status_timer.cancel();
    metrics.reset();
    notifier.stopping("stopped");
    srv.reset();
    log->info("stopped");
    return ExitCode::Ok;
  }

 private:
  CLI::App* app_ = nullptr;
  LoggingOptions logging_;
  server::ServerConfig config_;
  std::string password_file_;
  bool demo_ = false;
  int keepalive_s_ = 30;
  std::string metrics_;
};

}  // namespace

std::unique_ptr<Command> make_serve_command() { return std::make_unique<ServeCommand>(); }

}  // namespace callagent::cli
