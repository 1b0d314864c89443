// `callagent ctl`: sends one command to a running `join --control PATH`
// and prints the reply (human lines, or the reply's JSON with --json), or
// with `events [EVENT...]` prints pushed events until the agent exits or
// the user interrupts. The words are those of --script (control/command.h):
// ctl checks them before connecting, the agent checks them again.
//
// Exit codes: 0 ok; 4 refused (the agent's reply says why); 5 no reply
// within --timeout; 69 no agent on the socket; 77 no permission on it;
// 76 a reply that is no reply; 64 bad words.
#include "cli/ctl_command.h"

#include "cli/duration.h"
#include "common/gjson.h"
#include "control/command.h"
#include "control/request.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

namespace callagent::cli {

namespace {

constexpr const char* kFooter = R"(Commands (the words of --script too; docs/control.md):
  mute audio|video|both         unmute audio|video|both
  status                        stats
  hangup [rejoin]               quit
  chat TEXT...                  keyframe
  snapshot [FILE.png]           events [EVENT...]   (stream pushed events until interrupted)

Examples:
  callagent ctl --control /run/callagent/lobby.sock mute --audio
  callagent ctl --control /run/callagent/lobby.sock status --json
  callagent ctl --control /run/callagent/lobby.sock events --json chat stats
)";

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Status open(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) return Error{ExitCode::Usage, "--control: the path is too long"};
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Error{ExitCode::Unavailable, std::string("socket: ") + strerror(errno)};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      const int e = errno;
      const ExitCode code = (e == EACCES || e == EPERM) ? ExitCode::NoPerm : ExitCode::Unavailable;
      return Error{code, fmt::format("--control {}: {} (is `callagent join --control {}` running?)", path,
                                     strerror(e), path)};
    }
    return Ok{};
  }
  Status send_line(const std::string& line) {
    std::string data = line + "\n";
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{ExitCode::Unavailable, std::string("sending to the agent: ") + strerror(errno)};
      off += static_cast<size_t>(n);
    }
    return Ok{};
  }
  // The next line; nullopt at the end of the stream (the error says why).
  // deadline_ms < 0: wait for ever.
  Result<std::optional<std::string>> read_line(int64_t deadline_us) {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return std::optional<std::string>(std::move(line));
      }
      int timeout_ms = -1;
      if (deadline_us >= 0) {
        const int64_t left = deadline_us - g_get_monotonic_time();
        if (left <= 0) return Error{ExitCode::Timeout, "no reply from the agent in time (--timeout)"};
        timeout_ms = static_cast<int>((left + 999) / 1000);
      }
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) continue;  // the deadline check above ends it
      char chunk[4096];
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::optional<std::string>{};
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

JsonNodePtr parse(const std::string& line) {
  GRef<JsonParser> p = GRef<JsonParser>::adopt(json_parser_new());
  if (!json_parser_load_from_data(p.get(), line.c_str(), static_cast<gssize>(line.size()), nullptr)) return nullptr;
  JsonNode* root = json_parser_get_root(p.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return nullptr;
  return JsonNodePtr(json_node_copy(root));
}

std::string value_text(JsonNode* n) {
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) return json_node_get_string(n);
  return control::to_json(n);
}

// "key: value" lines of an object's members (but `skip`), nested objects
// as "key.sub: value".
void print_members(JsonObject* o, const std::string& prefix, std::initializer_list<std::string_view> skip) {
  GList* members = json_object_get_members(o);
  for (GList* m = members; m; m = m->next) {
    const char* name = static_cast<const char*>(m->data);
    bool skipped = false;
    for (auto s : skip) skipped = skipped || s == name;
    if (skipped) continue;
    JsonNode* n = json_object_get_member(o, name);
    if (JSON_NODE_HOLDS_OBJECT(n)) {
      print_members(json_node_get_object(n), prefix + name + ".", {});
    } else {
      std::cout << prefix << name << ": " << value_text(n) << "\n";
    }
  }
  g_list_free(members);
}

void print_event(JsonObject* o) {
  std::cout << fmt::format("{:8.3f} ", json_object_get_double_member_with_default(o, "t", 0))
            << json_object_get_string_member_with_default(o, "event", "?");
  GList* members = json_object_get_members(o);
  for (GList* m = members; m; m = m->next) {
    std::string_view name = static_cast<const char*>(m->data);
    if (name == "event" || name == "t") continue;
    JsonNode* n = json_object_get_member(o, m->data ? static_cast<const char*>(m->data) : "");
    if (name == "stats") {
      std::cout << " (stats interval)";
      continue;
    }
    std::cout << " " << name << "=" << value_text(n);
  }
  g_list_free(members);
  std::cout << std::endl;
}

class CtlCommand final : public Command {
 public:
  CLI::App* add_to(CLI::App& parent) override {
    app_ = parent.add_subcommand("ctl", "Control a running `join --control PATH`: mute, status, chat, hangup...");
    app_->add_option("--control", path_, "The agent's control socket")->required();
    app_->add_flag("--json", json_, "Print the reply (or the events) as JSON lines, for scripts");
    app_->add_option("--timeout", timeout_, "Wait this long for the reply (0: for ever)")->capture_default_str();
    app_->prefix_command();  // COMMAND and its words (--audio...) are ours
    app_->footer(std::string(kFooter) + exit_code_help(kCtl));
    return app_;
  }
  ExitCode run() override;

 private:
  ExitCode fail(const Error& e) {
    std::cerr << "callagent ctl: " << e.message << std::endl;
    return e.code;
  }
  ExitCode stream_events(Connection& c, std::vector<std::string> names);

  CLI::App* app_ = nullptr;
  std::string path_;
  bool json_ = false;
  std::string timeout_ = "5s";
};

ExitCode CtlCommand::run() {
  std::vector<std::string> words;
  const auto rest = app_->remaining();
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == "--json") {
      json_ = true;
    } else if (rest[i] == "--timeout" && i + 1 < rest.size()) {
      timeout_ = rest[++i];
    } else {
      words.push_back(rest[i]);
    }
  }
  auto timeout = parse_duration(timeout_, "--timeout");
  if (!timeout) return fail(timeout.error());
  if (words.empty()) return fail(Error{ExitCode::Usage, "give a COMMAND (see --help)"});
  const int64_t deadline = timeout->count() > 0 ? g_get_monotonic_time() + timeout->count() * 1000 : -1;

  if (words.front() == "events") {
    for (size_t i = 1; i < words.size(); ++i)
      if (!control::is_event_name(words[i]) && words[i] != "all")
        return fail(Error{ExitCode::Usage, "events: unknown event \"" + words[i] + "\""});
    Connection c;
    if (auto st = c.open(path_); !st) return fail(st.error());
    return stream_events(c, {words.begin() + 1, words.end()});
  }

  auto req = control::request_from_words(words);
  if (!req) return fail(req.error());
  if (auto cmd = control::to_command(*req); !cmd) return fail(cmd.error());
  req->id.reset(json_node_new(JSON_NODE_VALUE));
  json_node_set_int(req->id.get(), 1);

  Connection c;
  if (auto st = c.open(path_); !st) return fail(st.error());
  if (auto st = c.send_line(control::request_line(*req)); !st) return fail(st.error());
  for (;;) {
    auto line = c.read_line(deadline);
    if (!line) return fail(line.error());
    if (!*line) return fail(Error{ExitCode::Unavailable, "the agent closed the connection without a reply"});
    auto node = parse(**line);
    if (!node) return fail(Error{ExitCode::Protocol, "the agent's reply is no JSON object: " + **line});
    JsonObject* o = json_node_get_object(node.get());
    if (json_object_has_member(o, "event")) continue;  // not ours
    JsonNode* id = json_object_get_member(o, "id");
    if (!id || !JSON_NODE_HOLDS_VALUE(id) || json_node_get_int(id) != 1) continue;
    const bool ok = json_object_get_boolean_member_with_default(o, "ok", FALSE);
    if (json_) {
      std::cout << **line << std::endl;
    } else if (ok) {
      print_members(o, "", {"id", "ok"});
    }
    if (!ok) {
      const std::string why = json_object_get_string_member_with_default(o, "error", "refused");
      if (!json_) std::cerr << "callagent ctl: " << words.front() << ": " << why << std::endl;
      return ExitCode::Refused;
    }
    return ExitCode::Ok;
  }
}

ExitCode CtlCommand::stream_events(Connection& c, std::vector<std::string> names) {
  control::Request r = control::make_request("subscribe");
  if (!names.empty()) {
    JsonArray* arr = json_array_new();
    for (const auto& n : names) json_array_add_string_element(arr, n.c_str());
    json_object_set_array_member(r.args.get(), "events", arr);
  }
  r.id.reset(json_node_new(JSON_NODE_VALUE));
  json_node_set_string(r.id.get(), "events");
  if (auto st = c.send_line(control::request_line(r)); !st) return fail(st.error());
  bool subscribed = false;
  const int64_t deadline = g_get_monotonic_time() + 5'000'000;
  for (;;) {
    auto line = c.read_line(subscribed ? -1 : deadline);
    if (!line) return fail(line.error());
    if (!*line) return ExitCode::Ok;  // the agent exited
    auto node = parse(**line);
    if (!node) return fail(Error{ExitCode::Protocol, "the agent sent no JSON object: " + **line});
    JsonObject* o = json_node_get_object(node.get());
    if (!json_object_has_member(o, "event")) {
      if (!json_object_get_boolean_member_with_default(o, "ok", FALSE))
        return fail(Error{ExitCode::Refused, json_object_get_string_member_with_default(o, "error", "refused")});
      subscribed = true;
      continue;
    }
    if (json_)
      std::cout << **line << std::endl;
    else
      print_event(o);
  }
}

}  // namespace

std::unique_ptr<Command> make_ctl_command() { return std::make_unique<CtlCommand>(); }

}  // namespace callagent::cli
