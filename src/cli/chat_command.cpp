// `callagent chat ROOM`: be in a room's signaling without media. Prints the
// peer's chat messages and join/leave events; sends each stdin line as a
// chat message; leaves cleanly on end of input or SIGINT/SIGTERM (exit 0).
//
// It sends `join` on connecting, as the browser page does, so the peer sees
// it arrive. Offers, answers and candidates are ignored (debug log): a page
// in the room will try to call and get no answer.
//
// Output on stdout, one line per event.
//
// Text (default):
//   12:00:00 * connected to room 3f2b...        12:00:05 * reconnected to room 3f2b...
//   12:00:01 * user_0a1b2c3d joined             12:00:09 * user_0a1b2c3d left
//   12:00:02 <peer> hello                       12:00:07 * connection lost (...); reconnecting
//   Control characters in the peer's text are shown as U+FFFD so a peer cannot
//   drive the terminal; a multi-line message is indented after its first line.
//
// JSON (--json): one object per line; every object has "event" and "ts"
// (Unix time in seconds, millisecond precision):
//   {"event":"connected","room":"<id>","reconnected":false,"ts":1712345678.123}
//       we are in the room (the server did not refuse it) and `join` was sent;
//       "reconnected": after a drop
//   {"event":"join","user":"user_0a1b2c3d","source":"server","ts":...}
//       a peer joined; "source":"server" is the server's notice (user = the
//       joiner), "source":"peer" is the peer's own join frame relayed (the
//       server stamps it with OUR id, so "user" is ours there)
//   {"event":"leave","user":"user_0a1b2c3d","ts":...}
//   {"event":"chat","text":"hello","ts":...}
//       a chat message from the peer (the server does not say which user)
//   {"event":"disconnected","reason":"connection lost","ts":...}
//       the connection dropped; callagent is reconnecting
//   {"event":"left","reason":"end of input","ts":...}
//       we left the room on purpose (end of input, SIGINT, SIGTERM)
//   {"event":"error","code":67,"name":"room-not-found","message":"...","ts":...}
//       fatal: callagent exits with "code"
//
// Exit codes: 0 after leaving on purpose, otherwise the error's code
// (64 usage, 67 room not found, 68 no such host, 69 unreachable,
// 75 room full, 76 protocol, 77 not authorized, 79 TLS, 74 stdout unwritable).
#include "cli/chat_command.h"

#include "cli/common_options.h"
#include "common/gref.h"
#include "common/logging.h"
#include "common/main_context.h"
#include "signaling/room_url.h"
#include "signaling/signaling_client.h"

#include <CLI/CLI.hpp>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <json-glib/json-glib.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>

namespace callagent::cli {

namespace {

std::shared_ptr<spdlog::logger> log() { return logging::get("cli"); }

// A JSON string literal, escaped by json-glib.
std::string json_string(std::string_view s) {
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(node, std::string(s).c_str());
  GCharPtr text(json_to_string(node, FALSE));
  return text.get();
}

std::string valid_utf8(std::string_view s) {
  GCharPtr v(g_utf8_make_valid(s.data(), static_cast<gssize>(s.size())));
  return v.get();
}

// Peer text for a terminal: C0/C1 controls (escape sequences) become U+FFFD,
// continuation lines are indented.
std::string for_terminal(std::string_view text) {
  std::string in = valid_utf8(text);
  std::string out;
  for (const char* p = in.c_str(); *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (c == '\n') {
      out += "\n    ";
    } else if (c == '\t') {
      out += '\t';
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(p, static_cast<size_t>(g_utf8_next_char(p) - p));
    }
  }
  return out;
}

struct ChatOptions {
  std::string room;
  bool json = false;
  bool reconnect = true;
  bool no_input = false;
  unsigned keepalive = 15;
};

class ChatSession final : public signaling::SignalingClient::Listener {
 public:
  ChatSession(const ChatOptions& options, GMainLoop* loop) : options_(options), loop_(loop) {}

  ~ChatSession() override {
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
  }

  ExitCode run(signaling::SignalingOptions options) {
    auto client = signaling::SignalingClient::create(std::move(options), *this);
    if (!client) return report_error(client.error());
    client_ = std::move(*client);
    if (!options_.no_input) {
      GRef<GInputStream> raw = GRef<GInputStream>::adopt(g_unix_input_stream_new(0, FALSE));
      stdin_ = GRef<GDataInputStream>::adopt(g_data_input_stream_new(raw.get()));
      g_data_input_stream_set_newline_type(stdin_.get(), G_DATA_STREAM_NEWLINE_TYPE_ANY);
      cancellable_ = GRef<GCancellable>::adopt(g_cancellable_new());
    }
    UnixSignalWatch sigint(SIGINT, [this] { on_signal("interrupted (SIGINT)"); });
    UnixSignalWatch sigterm(SIGTERM, [this] { on_signal("terminated (SIGTERM)"); });
    client_->start();
    g_main_loop_run(loop_);
    client_.reset();
    return exit_code_;
  }

 private:
  // ---- SignalingClient::Listener ----------------------------------------

  void on_connected(bool reconnected) override {
    client_->send_join();
    if (options_.json) {
      emit("{\"event\":\"connected\",\"room\":" + json_string(client_->room_id()) +
           ",\"reconnected\":" + (reconnected ? "true" : "false"));
    } else {
      text_line(std::string("* ") + (reconnected ? "reconnected" : "connected") + " to room " +
                client_->room_id());
    }
    if (pending_line_) {
      // A line read while we were away goes out now.
      std::string line = std::move(*pending_line_);
      pending_line_.reset();
      client_->send_chat(line);
    }
    if (eof_) {
      leave("end of input");
    } else {
      read_next_line();
    }
  }

  void on_message(const signaling::ServerMessage& message) override {
    using namespace signaling;
    if (auto* chat = std::get_if<ChatMsg>(&message)) {
      if (options_.json)
        emit("{\"event\":\"chat\",\"text\":" + json_string(valid_utf8(chat->text)));
      else
        text_line("<peer> " + for_terminal(chat->text));
    } else if (auto* join = std::get_if<JoinMsg>(&message)) {
      if (options_.json) {
        emit("{\"event\":\"join\",\"user\":" + json_string(join->user) + ",\"source\":\"" +
             (join->server_made ? "server" : "peer") + "\"");
      } else if (join->server_made) {
        text_line("* " + for_terminal(join->user) + " joined");
      } else {
        log()->debug("the peer's own join frame arrived");
      }
    } else if (auto* leave_msg = std::get_if<LeaveMsg>(&message)) {
      if (options_.json)
        emit("{\"event\":\"leave\",\"user\":" + json_string(leave_msg->user));
      else
        text_line("* " + for_terminal(leave_msg->user) + " left");
    } else if (std::holds_alternative<OfferMsg>(message)) {
      log()->debug("ignoring an offer: chat has no media");
    } else if (std::holds_alternative<AnswerMsg>(message)) {
      log()->debug("ignoring an answer: chat has no media");
    } else if (std::holds_alternative<CandidateMsg>(message)) {
      log()->debug("ignoring an ICE candidate: chat has no media");
    }
  }

  void on_disconnected(const std::string& reason) override {
    if (options_.json)
      emit("{\"event\":\"disconnected\",\"reason\":" + json_string(reason));
    else
      text_line("* connection lost (" + reason + "); reconnecting");
  }

  void on_fatal(const Error& error) override {
    if (options_.json) {
      emit("{\"event\":\"error\",\"code\":" + std::to_string(to_int(error.code)) + ",\"name\":" +
           json_string(exit_code_name(error.code)) + ",\"message\":" + json_string(error.message));
    }
    if (exit_code_ == ExitCode::Ok) exit_code_ = error.code;
    finished_ = true;
    g_main_loop_quit(loop_);
  }

  void on_stopped() override {
    if (options_.json) emit("{\"event\":\"left\",\"reason\":" + json_string(leave_reason_));
    finished_ = true;
    g_main_loop_quit(loop_);
  }

  // ---- stdin ----------------------------------------------------------------

  struct Read {
    std::weak_ptr<void> alive;
    ChatSession* self;
  };

  void read_next_line() {
    if (!stdin_ || reading_ || eof_ || leaving_) return;
    reading_ = true;
    g_data_input_stream_read_line_async(stdin_.get(), G_PRIORITY_DEFAULT, cancellable_.get(),
                                        &ChatSession::on_line, new Read{alive_, this});
  }

  static void on_line(GObject* source, GAsyncResult* res, gpointer data) {
    std::unique_ptr<Read> read(static_cast<Read*>(data));
    GError* raw = nullptr;
    gsize length = 0;
    GCharPtr line(g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, &length, &raw));
    GErrorPtr err(raw);
    if (!read->alive.lock()) return;
    ChatSession* self = read->self;
    self->reading_ = false;
    if (self->finished_) return;
    if (err) {
      if (g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;
      log()->error("cannot read stdin: {}", err->message);
      self->eof_ = true;
      self->leave("stdin unreadable");
      return;
    }
    if (!line) {
      log()->debug("end of input");
      self->eof_ = true;
      if (!self->pending_line_) self->leave("end of input");
      return;
    }
    std::string text = valid_utf8(std::string_view(line.get(), length));
    while (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) {
      self->read_next_line();
      return;
    }
    if (self->client_->connected()) {
      self->client_->send_chat(text);
      self->read_next_line();
    } else {
      // Hold it (and stop reading) until the connection is back.
      log()->info("not connected: the message will be sent after reconnecting");
      self->pending_line_ = std::move(text);
    }
  }

  // ---- leaving ---------------------------------------------------------------

  void leave(const std::string& reason) {
    if (leaving_) return;
    leaving_ = true;
    leave_reason_ = reason;
    log()->info("leaving: {}", reason);
    if (cancellable_) g_cancellable_cancel(cancellable_.get());
    client_->stop();  // on_stopped() ends the loop
  }

  void on_signal(const std::string& what) {
    if (leaving_) {
      log()->warn("{} again: quitting without waiting", what);
      g_main_loop_quit(loop_);
      return;
    }
    leave(what);
  }

  // ---- output ----------------------------------------------------------------

  static std::string now_ts() {
    gint64 us = g_get_real_time();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(us / 1000000),
                  static_cast<long long>((us / 1000) % 1000));
    return buf;
  }

  // Finishes a JSON object started by the caller with its "ts" member.
  void emit(const std::string& open_object) { write_line(open_object + ",\"ts\":" + now_ts() + "}"); }

  void text_line(const std::string& text) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char hms[16];
    std::strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    write_line(std::string(hms) + " " + text);
  }

  void write_line(const std::string& line) {
    if (stdout_broken_) return;
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fputc('\n', stdout) == EOF ||
        std::fflush(stdout) != 0) {
      stdout_broken_ = true;
      log()->error("cannot write to stdout: leaving the room");
      if (exit_code_ == ExitCode::Ok) exit_code_ = ExitCode::IoErr;
      leave("stdout unwritable");
    }
  }

  ChatOptions options_;
  GMainLoop* loop_;
  std::unique_ptr<signaling::SignalingClient> client_;
  GRef<GDataInputStream> stdin_;
  GRef<GCancellable> cancellable_;
  bool reading_ = false;
  bool eof_ = false;
  bool leaving_ = false;
  bool stdout_broken_ = false;
  bool finished_ = false;  // fatal error or stopped: the loop is ending
  std::string leave_reason_;
  std::optional<std::string> pending_line_;
  ExitCode exit_code_ = ExitCode::Ok;
  Lifetime alive_ = make_lifetime();
};

class ChatCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    CLI::App* app = parent.add_subcommand(
        "chat", "Join a room's signaling without media: print chat and join/leave events, send stdin lines");
    app->add_option("ROOM", chat_.room, "Room URL (http(s)://HOST[:PORT]/room/ID) or room id (with --server)")
        ->required();
    app->add_flag("--json", chat_.json, "Print one JSON object per event on stdout (schema below)");
    app->add_flag("--reconnect,!--no-reconnect", chat_.reconnect,
                  "Reconnect (with backoff) when an established connection drops (default: on)");
    app->add_flag("--no-input", chat_.no_input,
                  "Do not read stdin: only listen, until SIGINT/SIGTERM");
    app->add_option("--keepalive", chat_.keepalive,
                    "Seconds between WebSocket pings; a server silent for twice this plus 5 s is "
                    "taken as gone and callagent reconnects (0: no pings)")
        ->check(CLI::Range(0u, 3600u))
        ->capture_default_str();
    add_connection_options(*app, connection_);
    add_logging_options(*app, logging_);
    app->footer(
        "Sends `join` on connecting (as the browser page does), then each line of stdin as a chat\n"
        "message; leaves the room cleanly at the end of input or on SIGINT/SIGTERM (exit 0).\n"
        "Offers, answers and ICE candidates are ignored: there is no media.\n"
        "\n"
        "Output: one line per event. Text: `12:00:01 <peer> hello`, `12:00:00 * user_x joined`.\n"
        "--json: {\"event\":\"connected\",\"room\":ID,\"reconnected\":false,\"ts\":T}\n"
        "        {\"event\":\"join\",\"user\":U,\"source\":\"server\"|\"peer\",\"ts\":T}\n"
        "        {\"event\":\"leave\",\"user\":U,\"ts\":T}   {\"event\":\"chat\",\"text\":S,\"ts\":T}\n"
        "        {\"event\":\"disconnected\",\"reason\":S,\"ts\":T}   {\"event\":\"left\",\"reason\":S,\"ts\":T}\n"
        "        {\"event\":\"error\",\"code\":N,\"name\":S,\"message\":S,\"ts\":T}   (T: Unix seconds)\n"
        "\n"
        "Examples:\n"
        "  CALLAGENT_PASSWORD=secret callagent chat http://127.0.0.1:8080/room/3f2b8c1e-...\n"
        "  callagent chat --server https://chat.example.com --password-file pw.txt 3f2b8c1e-...\n"
        "  echo 'build 1234 is green' | callagent chat --json \"$ROOM_URL\"\n"
        "  callagent chat --no-input --json \"$ROOM_URL\" > events.jsonl   # a listener");
    return app;
  }

  ExitCode run() override {
    apply_logging_options(logging_);
    // A reader that went away must not kill us silently: the write fails and we leave cleanly.
    std::signal(SIGPIPE, SIG_IGN);

    auto target = signaling::parse_room_target(chat_.room, connection_.server);
    if (!target) return report_error(target.error());
    if (!connection_.server.empty() && chat_.room.find("://") != std::string::npos) {
      auto given = signaling::normalize_server_url(connection_.server);
      if (given && *given != target->base_url) {
        log()->warn("using the server of the room URL ({}), not --server {}", target->base_url, *given);
      }
    }
    auto creds = resolve_credentials(connection_);
    if (!creds) return report_error(creds.error());

    signaling::SignalingOptions options;
    options.base_url = target->base_url;
    options.room_id = target->room_id;
    options.credentials = signaling::Credentials{creds->user, creds->password, creds->token};
    options.ca_file = connection_.ca_file;
    options.insecure = connection_.insecure;
    options.reconnect = chat_.reconnect;
    options.keepalive = std::chrono::seconds(chat_.keepalive);

    GUnique<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
    ChatSession session(chat_, loop.get());
    return session.run(std::move(options));
  }

 private:
  ChatOptions chat_;
  ConnectionOptions connection_;
  LoggingOptions logging_;
};

}  // namespace

std::unique_ptr<Command> make_chat_command() { return std::make_unique<ChatCommand>(); }

}  // namespace callagent::cli
