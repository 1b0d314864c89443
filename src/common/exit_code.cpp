#include "common/exit_code.h"

#include <array>
#include <utility>

namespace callagent {

namespace {

constexpr unsigned kClients = kJoin | kCreate | kChat;  // the commands that log into a server

// The one exit-code table. Which commands can return a code follows from
// where it is made: signaling errors reach every client command, media and
// call errors only join, the room database only serve.
constexpr std::array<ExitCodeInfo, 20> kTable{{
    {ExitCode::Ok, "ok", "ok (also after SIGINT/SIGTERM)", "ok", kAllCommands},
    {ExitCode::ExpectationFailed, "expectation-failed", "an expectation (`--expect`) failed (call testing)",
     "an --expect failed", kJoin},
    {ExitCode::NoPartner, "no-partner", "nobody joined within `--wait-for-partner`",
     "nobody came (--wait-for-partner)", kJoin},
    {ExitCode::CallFailed, "call-failed", "the call failed (media / ICE / DTLS) and did not recover, or no connection came up within `--connect-timeout`",
     "call failed", kJoin},
    {ExitCode::Refused, "refused", "the agent refused the control command (`ctl`; the message says why)",
     "command refused", kCtl},
    {ExitCode::Timeout, "timeout", "no reply from the agent within `ctl --timeout`", "no reply in time", kCtl},
    {ExitCode::Usage, "usage", "usage: a bad option or value (the message names it)", "usage", kAllCommands},
    {ExitCode::DataErr, "data-error", "unreadable input data (a media file that cannot be decoded)",
     "unreadable input data", kJoin},
    {ExitCode::NoInput, "no-input", "an input file is missing or unreadable (password file, media file)",
     "missing input file", kClients | kServe},
    {ExitCode::RoomNotFound, "room-not-found", "the server does not know the room", "room not found",
     kJoin | kChat},
    {ExitCode::NoHost, "no-host", "the server's host name (or `serve --listen`'s) does not resolve",
     "host name does not resolve", kClients | kServe},
    {ExitCode::Unavailable, "unavailable",
     "the server cannot be reached (or `serve` cannot listen, or holds its maximum of rooms; or no agent "
     "listens on `ctl --control`'s socket)",
     "server (or control socket) unreachable", kClients | kServe | kCtl},
    {ExitCode::Software, "internal-error", "internal error (a bug: please report it with the log)",
     "internal error", kClients | kServe},
    {ExitCode::CantCreate, "cant-create",
     "an output file cannot be created, or the audio sink (speaker) cannot be opened",
     "an output (file, speaker) cannot be opened", kJoin | kServe},
    {ExitCode::IoErr, "io-error", "an I/O error while writing (a file, stdout, the room database; a recording that failed during the call)",
     "write error", kClients | kServe},
    {ExitCode::RoomFull, "room-full", "the room is full (two participants already)", "room full",
     kJoin | kChat},
    {ExitCode::Protocol, "protocol-error", "the server broke the protocol (or the room id was missing; or the agent's reply to `ctl` was no reply)",
     "protocol error", kClients | kCtl},
    {ExitCode::NoPerm, "not-authorized", "bad credentials / not authorized (or no permission on the control socket)", "bad credentials", kClients | kCtl},
    {ExitCode::Config, "config-error",
     "configuration: e.g. a GStreamer plugin is missing (the Debian package is named), an unusable "
     "`--ca-file` or `--tls-cert`, an empty password file, a `--video-codec` the partner cannot receive",
     "configuration (e.g. a missing GStreamer plugin)", kClients | kServe},
    {ExitCode::Tls, "tls-error", "TLS: the certificate was not trusted or the handshake failed", "TLS",
     kClients},
}};

constexpr std::array<std::pair<unsigned, std::string_view>, 6> kCommandNames{{
    {kJoin, "join"}, {kCreate, "create"}, {kChat, "chat"}, {kDevices, "devices"}, {kServe, "serve"},
    {kCtl, "ctl"}}};

}  // namespace

std::span<const ExitCodeInfo> exit_code_table() { return kTable; }

const ExitCodeInfo& exit_code_info(ExitCode c) {
  static constexpr ExitCodeInfo kUnknown{ExitCode::Software, "unknown", "not a known exit code", "unknown", 0};
  for (const auto& e : kTable)
    if (e.code == c) return e;
  return kUnknown;  // only a cast from a stray int gets here
}

std::string_view exit_code_name(ExitCode c) { return exit_code_info(c).name; }

std::string command_list(unsigned commands) {
  if ((commands & kAllCommands) == kAllCommands) return "all";
  std::string out;
  for (const auto& [bit, name] : kCommandNames) {
    if (!(commands & bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string exit_code_help(unsigned commands) {
  std::string out = "Exit codes (docs/exit-codes.md):\n";
  for (const auto& e : kTable) {
    if (!(e.commands & commands)) continue;
    const std::string code = std::to_string(to_int(e.code));
    out += "  " + std::string(4 - code.size(), ' ') + code + "  " + std::string(e.brief) + "\n";
  }
  out.pop_back();  // CLI11 ends the footer itself
  return out;
}

std::string exit_code_markdown() {
  std::string out = "| code | name | meaning | commands |\n|---|---|---|---|\n";
  for (const auto& e : kTable) {
    out += "| " + std::to_string(to_int(e.code)) + " | `" + std::string(e.name) + "` | " +
           std::string(e.meaning) + " | " + command_list(e.commands) + " |\n";
  }
  return out;
}

}  // namespace callagent
