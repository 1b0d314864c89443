#pragma once
// Options shared by the commands that talk to a messenger server
// (create, chat, join) and by every command (logging).
//
// Secrets: the password comes from --password-file or CALLAGENT_PASSWORD;
// --password exists but warns that other users can read it (ps, /proc).
// A token from --token / CALLAGENT_TOKEN skips the login.

#include "cli/cli11_fwd.h"
#include "common/result.h"
#include "signaling/http_client.h"

#include <optional>
#include <string>

namespace callagent::cli {

struct LoggingOptions {
  int verbose = 0;
  int quiet = 0;
  std::string log_format = "text";
};

struct ConnectionOptions {
  std::string server;         // base URL, e.g. http://127.0.0.1:8080
  std::string user = "admin";
  std::string password_file;
  std::string password;       // discouraged: visible to other users
  std::string token;
  std::string ca_file;
  bool insecure = false;
};

// What resolve_credentials() found: a password, a token, or both.
using Credentials = signaling::Credentials;

void add_logging_options(CLI::App& app, LoggingOptions& o);
void add_connection_options(CLI::App& app, ConnectionOptions& o);

// Applies -v/-q/--log-format to the logging setup.
void apply_logging_options(const LoggingOptions& o);

// Reads the password file or the environment. Errors: NoInput (file missing
// or unreadable), Usage (nothing given).
Result<Credentials> resolve_credentials(const ConnectionOptions& o);

// Reads a secret from a file: the first line, without its line ending.
Result<std::string> read_secret_file(const std::string& path);

// A command's failure: logs the error's message (logger "cli") and returns
// its exit code.
ExitCode report_error(const Error& e);

}  // namespace callagent::cli
