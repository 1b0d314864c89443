#pragma once
// Process exit codes (sysexits style) and the one table that describes them.
//
// exit_code_table() is the single source of truth: `callagent --help` and
// `callagent join --help` print lists generated from it, and the unit test
// tests/common/test_exit_code.cpp checks that docs/exit-codes.md and the
// table in README.md ("Exit codes") are exactly exit_code_markdown(), so
// the documents cannot drift from the code. Adding a code: add it to the
// enum and to the table in exit_code.cpp, then paste exit_code_markdown()
// (the test prints it) into both documents.

#include <span>
#include <string>
#include <string_view>

namespace callagent {

enum class ExitCode : int {
  Ok = 0,
  ExpectationFailed = 1,  // a --expect assertion failed (call testing)
  NoPartner = 2,          // nobody joined within --wait-for-partner
  CallFailed = 3,         // media/ICE/DTLS failed and did not recover
  Refused = 4,            // ctl: the agent refused the command (its reply says why)
  Timeout = 5,            // ctl: no reply from the agent in time
  Usage = 64,             // bad command line or expression
  DataErr = 65,           // unreadable input data (bad media file)
  NoInput = 66,           // an input file is missing or unreadable
  RoomNotFound = 67,      // the server does not know the room
  NoHost = 68,            // the server's host name does not resolve
  Unavailable = 69,       // the server cannot be reached / refused
  Software = 70,          // internal error (a bug)
  CantCreate = 73,        // an output file cannot be created
  IoErr = 74,             // I/O error while writing
  RoomFull = 75,          // the room already holds two participants (try later)
  Protocol = 76,          // the server broke the protocol (or room id missing)
  NoPerm = 77,            // bad credentials / not authorized
  Config = 78,            // bad configuration (config file, missing plugin)
  Tls = 79,               // TLS handshake or certificate verification failed
};

constexpr int to_int(ExitCode c) { return static_cast<int>(c); }

// The subcommands, as bits: which of them can end with a code.
enum CommandBit : unsigned {
  kJoin = 1u << 0,
  kCreate = 1u << 1,
  kChat = 1u << 2,
  kDevices = 1u << 3,
  kServe = 1u << 4,
  kCtl = 1u << 5,
  kAllCommands = kJoin | kCreate | kChat | kDevices | kServe | kCtl,
};

struct ExitCodeInfo {
  ExitCode code;
  std::string_view name;     // stable, in the report's exit.name: "ok", "no-partner", ...
  std::string_view meaning;  // one sentence for the documents
  std::string_view brief;    // a few words for --help
  unsigned commands;         // CommandBit set
};

// Every exit code, in ascending order.
std::span<const ExitCodeInfo> exit_code_table();
// The entry of a code (every enumerator has one).
const ExitCodeInfo& exit_code_info(ExitCode c);
std::string_view exit_code_name(ExitCode c);

// "join, create, chat" (or "all") for a CommandBit set.
std::string command_list(unsigned commands);

// The --help list of the codes `commands` can return: a heading line and
// one indented line per code ("  64  usage: a bad option or value").
std::string exit_code_help(unsigned commands);

// The Markdown table (header, separator, one row per code; each line ends
// in '\n') that docs/exit-codes.md and README.md hold verbatim.
std::string exit_code_markdown();

}  // namespace callagent
