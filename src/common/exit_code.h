#pragma once
// The one mapping from failures to process exit codes (sysexits style).
// README.md ("Exit codes") documents the same table; keep them in sync.

#include <string_view>

namespace callagent {

enum class ExitCode : int {
  Ok = 0,
  ExpectationFailed = 1,  // a --expect assertion failed (call testing)
  NoPartner = 2,          // nobody joined within --wait-for-partner
  CallFailed = 3,         // media/ICE/DTLS failed and did not recover
  Usage = 64,             // bad command line or expression
  DataErr = 65,           // unreadable input data (bad media file, bad JSON)
  NoInput = 66,           // an input file is missing or unreadable
  RoomNotFound = 67,      // the server does not know the room
  NoHost = 68,            // the server's host name does not resolve
  Unavailable = 69,       // the server cannot be reached / refused
  Software = 70,          // internal error (a bug)
  OsErr = 71,             // a system call failed
  CantCreate = 73,        // an output file cannot be created
  IoErr = 74,             // I/O error while writing
  RoomFull = 75,          // the room already holds two participants (try later)
  Protocol = 76,          // the server broke the protocol (or room id missing)
  NoPerm = 77,            // bad credentials / not authorized
  Config = 78,            // bad configuration (config file, missing plugin)
  Tls = 79,               // TLS handshake or certificate verification failed
};

constexpr int to_int(ExitCode c) { return static_cast<int>(c); }
std::string_view exit_code_name(ExitCode c);

}  // namespace callagent
