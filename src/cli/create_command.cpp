// `callagent create`: log in, make a room, print its URL (one line on
// stdout, nothing else there), exit 0.
#include "cli/create_command.h"

#include "cli/common_options.h"
#include "common/gref.h"
#include "common/logging.h"
#include "signaling/http_client.h"
#include "signaling/room_url.h"

#include <CLI/CLI.hpp>

#include <glib.h>

#include <cstdio>
#include <optional>

namespace callagent::cli {

namespace {

class CreateCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand("create", "Log in and create a room; print its URL on stdout");
    add_connection_options(*app, connection_);
    add_logging_options(*app, logging_);
    app->footer(
        "Prints the new room's URL as the only line on stdout (logs go to stderr), so it can be\n"
        "captured by a script and given to `callagent join` or `callagent chat`, or opened in a\n"
        "browser.\n"
        "\n"
        "Examples:\n"
        "  CALLAGENT_PASSWORD=secret callagent create --server http://127.0.0.1:8080\n"
        "  callagent create --server https://chat.example.com --password-file ~/.config/callagent/pw\n"
        "  ROOM=$(callagent create --server https://chat.example.com --ca-file ca.pem) &&\n"
        "    callagent chat \"$ROOM\"");
    return app;
  }

  ExitCode run() override {
    apply_logging_options(logging_);
    auto base = signaling::normalize_server_url(connection_.server);
    if (!base) {
      if (connection_.server.empty()) {
        return report_error(Error{ExitCode::Usage,
                            "create needs the server: pass --server URL (or set CALLAGENT_SERVER), "
                            "e.g. --server https://chat.example.com"});
      }
      return report_error(base.error());
    }
    auto creds = resolve_credentials(connection_);
    if (!creds) return report_error(creds.error());

    signaling::HttpOptions options;
    options.base_url = *base;
    options.ca_file = connection_.ca_file;
    options.insecure = connection_.insecure;
    auto http = signaling::HttpClient::create(
        std::move(options), signaling::Credentials{creds->user, creds->password, creds->token});
    if (!http) return report_error(http.error());

    GUnique<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
    std::optional<Result<std::string>> outcome;
    (*http)->create_room([&](Result<std::string> r) {
      outcome = std::move(r);
      g_main_loop_quit(loop.get());
    });
    g_main_loop_run(loop.get());
    http->reset();

    if (!outcome) return report_error(Error{ExitCode::Software, "create finished without an answer"});
    if (!*outcome) return report_error(outcome->error());

    const std::string& url = outcome->value();
    if (base->rfind("https://", 0) == 0 && url.rfind("http://", 0) == 0) {
      logging::get("cli")->warn(
          "the server printed an http:// room URL although it was reached over https: a reverse "
          "proxy probably does not set X-Forwarded-Proto");
    }
    if (std::fprintf(stdout, "%s\n", url.c_str()) < 0 || std::fflush(stdout) != 0) {
      return report_error(Error{ExitCode::IoErr, "cannot write the room URL to stdout"});
    }
    return ExitCode::Ok;
  }

 private:
  ConnectionOptions connection_;
  LoggingOptions logging_;
};

}  // namespace

std::unique_ptr<Command> make_create_command() { return std::make_unique<CreateCommand>(); }

}  // namespace callagent::cli
