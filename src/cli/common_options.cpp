#include "cli/common_options.h"

#include "common/logging.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>

namespace callagent::cli {

void add_logging_options(CLI::App& app, LoggingOptions& o) {
  auto* g = "Logging";
  app.add_flag("-v,--verbose", o.verbose, "More log output (-v debug, -vv trace)")->group(g);
  app.add_flag("-q,--quiet", o.quiet, "Less log output (-q warnings, -qq errors only)")->group(g);
  app.add_option("--log-format", o.log_format, "Log line format on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str()
      ->group(g);
}

void add_connection_options(CLI::App& app, ConnectionOptions& o) {
  auto* g = "Server";
  app.add_option("--server", o.server,
                 "Server base URL, e.g. https://chat.example.com (taken from a room URL if omitted)")
      ->envname("CALLAGENT_SERVER")
      ->group(g);
  app.add_option("--user", o.user, "Account name")
      ->envname("CALLAGENT_USER")
      ->capture_default_str()
      ->group(g);
  app.add_option("--password-file", o.password_file,
                 "Read the password from this file (first line)")
      ->group(g);
  app.add_option("--password", o.password,
                 "Password (visible to other users of this machine: prefer --password-file or "
                 "CALLAGENT_PASSWORD)")
      ->group(g);
  app.add_option("--token", o.token, "Session token from an earlier login (skips login)")
      ->envname("CALLAGENT_TOKEN")
      ->group(g);
  app.add_option("--ca-file", o.ca_file, "Trust the CA certificate(s) in this PEM file")
      ->check(CLI::ExistingFile)
      ->group(g);
  app.add_flag("--insecure", o.insecure, "Do not verify the server's TLS certificate")->group(g);
}

void apply_logging_options(const LoggingOptions& o) {
  logging::setup(o.verbose - o.quiet,
                 o.log_format == "json" ? logging::Format::Json : logging::Format::Text);
}

Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{ExitCode::NoInput,
                 "cannot read password file '" + path + "': check the path and its permissions"};
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) {
    return Error{ExitCode::Config, "password file '" + path + "' is empty"};
  }
  return line;
}

Result<Credentials> resolve_credentials(const ConnectionOptions& o) {
  Credentials c;
  c.user = o.user;
  if (!o.token.empty()) c.token = o.token;
  if (!o.password_file.empty()) {
    auto p = read_secret_file(o.password_file);
    if (!p) return p.error();
    c.password = std::move(*p);
  } else if (!o.password.empty()) {
    logging::get("auth")->warn(
        "--password is visible to other users of this machine (ps, /proc); use --password-file "
        "or CALLAGENT_PASSWORD");
    c.password = o.password;
  } else if (const char* env = std::getenv("CALLAGENT_PASSWORD"); env && *env) {
    c.password = std::string(env);
  }
  if (!c.password && !c.token) {
    return Error{ExitCode::Usage,
                 "no credentials: give --password-file FILE, set CALLAGENT_PASSWORD, or pass "
                 "--token / CALLAGENT_TOKEN"};
  }
  return c;
}

ExitCode report_error(const Error& e) {
  logging::get("cli")->error("{}", e.message);
  return e.code;
}

}  // namespace callagent::cli
