// docs/control.md's tables are the code's (command_table(), event_table()):
// each command and each event has its row, and the document lists no other.
#include "control/command.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace callagent::control;

namespace {
std::string read_doc() {
  const char* root = std::getenv("CALLAGENT_SOURCE_ROOT");
  REQUIRE(root);
  std::ifstream in(std::string(root) + "/docs/control.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  // A '|' inside a table cell is written "\|".
  return std::regex_replace(ss.str(), std::regex(R"(\\\|)"), "|");
}

// The first cells (`name`) of the table rows under `heading`.
std::set<std::string> names_under(const std::string& doc, const std::string& heading) {
  std::set<std::string> out;
  auto at = doc.find(heading);
  REQUIRE(at != std::string::npos);
  std::istringstream in(doc.substr(at + heading.size()));
  std::string line;
  static const std::regex row(R"(^\| `([a-z-]+)` \|)");
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) break;
    std::smatch m;
    if (std::regex_search(line, m, row)) {
      out.insert(m[1]);
      in_table = true;
    } else if (in_table && line.empty()) {
      break;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("docs/control.md lists every command and event, and no other", "[control][docs]") {
  const std::string doc = read_doc();
  std::set<std::string> commands, events;
  for (const auto& c : command_table()) commands.insert(std::string(c.name));
  for (const auto& e : event_table()) events.insert(std::string(e.name));
  CHECK(names_under(doc, "## Commands") == commands);
  CHECK(names_under(doc, "## Events") == events);
  // Each command's row shows its ctl words as the code has them.
  for (const auto& c : command_table()) {
    INFO(c.name);
    CHECK(doc.find(std::string(c.words)) != std::string::npos);
  }
}
