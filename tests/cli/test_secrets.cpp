// Secrets never leave the process: the password, the token, TURN
// credentials and an RTMP stream key appear neither in the log (stderr),
// nor in what is printed (stdout, --help), nor in the report.
#include "cli/cli.h"
#include "cli/join_report.h"
#include "cli/secret_mask.h"

#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace callagent;
using namespace callagent::cli;

namespace {

constexpr const char* kPassword = "hunter2-pw-SECRET";
constexpr const char* kToken = "tok-SECRET-0123456789abcdef";
constexpr const char* kTurnPass = "turn-SECRET-pass";
constexpr const char* kStreamKey = "stream-SECRET-key";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_no_secret(const std::string& text, const std::string& where) {
  INFO(where << ":\n" << text);
  for (const char* s : {kPassword, kToken, kTurnPass, kStreamKey}) CHECK(text.find(s) == std::string::npos);
  CHECK(text.find("SECRET") == std::string::npos);
}

using callagent::test::TempDir;

// Runs `callagent ARGS` in-process with stdout and stderr sent to files.
struct Run {
  int rc = -1;
  std::string out, err;
};

Run run_cli(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "callagent");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  const std::string out_path = dir.path + "/stdout", err_path = dir.path + "/stderr";
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved_out = dup(1), saved_err = dup(2);
  FILE* out = std::fopen(out_path.c_str(), "w");
  FILE* err = std::fopen(err_path.c_str(), "w");
  REQUIRE((out && err));
  dup2(fileno(out), 1);
  dup2(fileno(err), 2);
  Run r;
  r.rc = callagent::cli::run(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  std::fclose(out);
  std::fclose(err);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

}  // namespace

TEST_CASE("secrets: TURN and RTMP URLs are masked", "[cli][secrets]") {
  CHECK(mask_turn_url("turn://alice:pw@t.example:3478") == "turn://***@t.example:3478");
  CHECK(mask_turn_url("turns://alice:pw@t.example:5349?transport=tcp") ==
        "turns://***@t.example:5349?transport=tcp");
  CHECK(mask_turn_url("turn://t.example:3478") == "turn://t.example:3478");
  CHECK(mask_rtmp_url("rtmp://live.example/app/KEY") == "rtmp://live.example/app/***");
  CHECK(mask_rtmp_url("rtmps://live.example:443/live2/KEY") == "rtmps://live.example:443/live2/***");
  CHECK(mask_rtmp_url("rtmp://live.example") == "***");
  CHECK(mask_rtmp_url("KEY") == "***");
}

TEST_CASE("secrets: the report's options name the credential source only", "[cli][secrets]") {
  JoinOptions o;
  o.room = "http://127.0.0.1:8080/room/abc";
  o.conn.password = kPassword;
  o.conn.password_file = std::string("/run/") + kPassword;
  o.conn.token = kToken;
  o.turn = {std::string("turn://alice:") + kTurnPass + "@t:3478"};
  o.rtmp = std::string("rtmp://live.example/app/") + kStreamKey;
  auto options = report_options(o);
  CHECK(std::get<std::string>(options.at("credentials")) == "token");
  CHECK(options.count("password") == 0);
  CHECK(options.count("token") == 0);
  CHECK(options.count("password_file") == 0);
  CHECK(std::get<std::vector<std::string>>(options.at("turn")) ==
        std::vector<std::string>{"turn://***@t:3478"});
  CHECK(std::get<std::string>(options.at("rtmp")) == "rtmp://live.example/app/***");
  stats::ReportInput r;
  r.options = options;
  check_no_secret(stats::report_to_json(r), "report");

  o.conn.token.clear();
  CHECK(std::get<std::string>(report_options(o).at("credentials")) == "password-file");
  o.conn.password_file.clear();
  CHECK(std::get<std::string>(report_options(o).at("credentials")) == "password-option");
  o.conn.password.clear();
  CHECK(std::get<std::string>(report_options(o).at("credentials")) == "environment");
}

TEST_CASE("secrets: join's log, output and report never show them", "[cli][secrets]") {
  TempDir dir;
  const std::string report = dir.path + "/report.json";
  const std::vector<std::string> secrets = {
      "--user", "bob", "--token", kToken, "--turn", std::string("turn://alice:") + kTurnPass + "@t:3478",
      "--rtmp", std::string("rtmp://live.example/app/") + kStreamKey, "--report", report,
      "--video-source", "none", "--audio-source", "none", "--no-status", "-vv"};

  SECTION("a password on the command line, the run ends before any network I/O") {
    // --server without a scheme fails after the credentials, the plugin
    // check and the warning about --password: all of them log.
    std::vector<std::string> args = {"join", "--create", "--server", "nohost", "--password", kPassword};
    args.insert(args.end(), secrets.begin(), secrets.end());
    auto r = run_cli(dir, args);
    INFO(r.err);
    CHECK((r.rc == to_int(ExitCode::Usage) || r.rc == to_int(ExitCode::Config)));
    CHECK(r.err.find("--password is visible") != std::string::npos);  // the log was captured
    check_no_secret(r.err, "stderr");
    check_no_secret(r.out, "stdout");
    const std::string json = read_file(report);
    CHECK(json.find("\"credentials\" : \"token\"") != std::string::npos);
    check_no_secret(json, "report");
  }
  SECTION("a missing password file") {
    std::vector<std::string> args = {"join", "http://127.0.0.1:9/room/abc", "--password-file",
                                     dir.path + "/missing"};
    args.insert(args.end(), secrets.begin(), secrets.end());
    auto r = run_cli(dir, args);
    CHECK(r.rc == to_int(ExitCode::NoInput));
    check_no_secret(r.err, "stderr");
    const std::string json = read_file(report);
    CHECK(json.find("\"name\" : \"no-input\"") != std::string::npos);
    check_no_secret(json, "report");
  }
}

TEST_CASE("secrets: --help does not print a token from the environment", "[cli][secrets]") {
  TempDir dir;
  g_setenv("CALLAGENT_TOKEN", kToken, TRUE);
  g_setenv("CALLAGENT_PASSWORD", kPassword, TRUE);
  auto r = run_cli(dir, {"join", "--help"});
  g_unsetenv("CALLAGENT_TOKEN");
  g_unsetenv("CALLAGENT_PASSWORD");
  CHECK(r.rc == 0);
  CHECK(r.out.find("--token") != std::string::npos);
  check_no_secret(r.out, "stdout");
  check_no_secret(r.err, "stderr");
}
