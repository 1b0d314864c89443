// The exit-code table (src/common/exit_code.h) is the one source: the
// documents must hold exactly the table the code generates, and --help's
// lists come from it.
#include "common/exit_code.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace callagent;

namespace {

// Every enumerator, spelled out: a new one must be added here and to the table.
constexpr ExitCode kAll[] = {
    ExitCode::Ok,          ExitCode::ExpectationFailed, ExitCode::NoPartner, ExitCode::CallFailed,
    ExitCode::Refused,     ExitCode::Timeout,
    ExitCode::Usage,       ExitCode::DataErr,           ExitCode::NoInput,   ExitCode::RoomNotFound,
    ExitCode::NoHost,      ExitCode::Unavailable,       ExitCode::Software,  ExitCode::CantCreate,
    ExitCode::IoErr,       ExitCode::RoomFull,          ExitCode::Protocol,  ExitCode::NoPerm,
    ExitCode::Config,      ExitCode::Tls,
};

std::string source_file(const std::string& relative) {
  const char* root = std::getenv("CALLAGENT_SOURCE_ROOT");
  REQUIRE(root);
  std::ifstream in(std::string(root) + "/" + relative);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The Markdown table that starts with "| code |" (header to last row).
std::string exit_code_table_in(const std::string& doc) {
  const auto start = doc.find("| code |");
  if (start == std::string::npos) return "";
  std::string out;
  std::istringstream lines(doc.substr(start));
  std::string line;
  while (std::getline(lines, line) && !line.empty() && line[0] == '|') out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("exit codes: one row per code, ascending, names unique", "[common][exit]") {
  auto table = exit_code_table();
  REQUIRE(table.size() == std::size(kAll));
  std::set<std::string_view> names;
  int last = -1;
  for (const auto& e : table) {
    CHECK(to_int(e.code) > last);
    last = to_int(e.code);
    CHECK(names.insert(e.name).second);
    CHECK_FALSE(e.meaning.empty());
    CHECK_FALSE(e.brief.empty());
    CHECK(e.commands != 0);
    CHECK((e.commands & ~unsigned(kAllCommands)) == 0);
  }
  for (ExitCode c : kAll) {
    CHECK(exit_code_info(c).code == c);
    CHECK(exit_code_name(c) != "unknown");
  }
  CHECK(exit_code_name(static_cast<ExitCode>(6)) == "unknown");
}

TEST_CASE("exit codes: the names scripts and reports rely on", "[common][exit]") {
  CHECK(exit_code_name(ExitCode::Ok) == "ok");
  CHECK(exit_code_name(ExitCode::ExpectationFailed) == "expectation-failed");
  CHECK(exit_code_name(ExitCode::NoPartner) == "no-partner");
  CHECK(exit_code_name(ExitCode::Usage) == "usage");
  CHECK(exit_code_name(ExitCode::NoPerm) == "not-authorized");
  CHECK(to_int(ExitCode::Tls) == 79);
}

TEST_CASE("exit codes: --help lists exactly a command's codes", "[common][exit]") {
  const std::string join = exit_code_help(kJoin);
  for (const auto& e : exit_code_table()) {
    const std::string line = "  " + std::string(to_int(e.code) < 10 ? "   " : "  ") +
                             std::to_string(to_int(e.code)) + "  " + std::string(e.brief) + "\n";
    CHECK(((join + "\n").find(line) != std::string::npos) == bool(e.commands & kJoin));
  }
  const std::string devices = exit_code_help(kDevices);
  CHECK(devices == "Exit codes (docs/exit-codes.md):\n     0  ok\n    64  usage");
  CHECK(exit_code_help(kServe).find("expectation") == std::string::npos);
  CHECK(command_list(kAllCommands) == "all");
  CHECK(command_list(kJoin | kChat) == "join, chat");
}

TEST_CASE("exit codes: docs/exit-codes.md holds the code's table", "[common][exit]") {
  const std::string expected = exit_code_markdown();
  INFO("expected table (paste it into the document):\n" << expected);
  CHECK(exit_code_table_in(source_file("docs/exit-codes.md")) == expected);
}

TEST_CASE("exit codes: README.md holds the code's table", "[common][exit]") {
  const std::string expected = exit_code_markdown();
  INFO("expected table (paste it into README.md, \"Exit codes\"):\n" << expected);
  CHECK(exit_code_table_in(source_file("README.md")) == expected);
}
