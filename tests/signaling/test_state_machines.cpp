// The transition tables of SignalingClient and WsClient: the table in each
// header's comment is read and compared, pair by pair, with
// is_legal_transition(), so the documented diagram and the code cannot
// drift; then the paths the clients actually take are checked by name.
#include "signaling/signaling_client.h"
#include "signaling/ws_client.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace callagent::signaling;

namespace {

using Table = std::map<std::string, std::set<std::string>>;

// Reads the "From -> To (why) | To ..." table of a header's state comment.
// An entry may continue on the following comment lines; "final" means no
// move out; "A, B -> ..." gives two states the same row.
Table read_table(const std::string& header, const std::set<std::string>& names) {
  std::ifstream in(std::string(CALLAGENT_SOURCE_ROOT) + "/src/signaling/" + header);
  REQUIRE(in.good());
  const std::regex entry(R"(^//\s+([A-Z]\w*(?:,\s*[A-Z]\w*)*)\s+->\s+(.*)$)");
  const std::regex continuation(R"(^//\s{8,}(\S.*)$)");
  std::vector<std::pair<std::string, std::string>> rows;  // froms, text
  std::string line;
  bool in_entry = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, entry)) {
      rows.emplace_back(m[1], m[2]);
      in_entry = true;
    } else if (in_entry && std::regex_match(line, m, continuation)) {
      rows.back().second += " " + m[1].str();
    } else {
      in_entry = false;
    }
  }
  Table t;
  const std::regex parens(R"(\([^()]*\))");
  for (auto& [froms, text] : rows) {
    // Innermost first: "(connect())" nests.
    std::string targets = text;
    for (std::string prev; prev != targets;) {
      prev = targets;
      targets = std::regex_replace(targets, parens, "");
    }
    std::set<std::string> to;
    std::stringstream ts(targets);
    std::string item;
    while (std::getline(ts, item, '|')) {
      item.erase(0, item.find_first_not_of(' '));
      item.erase(item.find_last_not_of(' ') + 1);
      if (item == "final") continue;
      INFO(header << ": '" << item << "' in the row of " << froms);
      CHECK(names.count(item) == 1);
      to.insert(item);
    }
    std::stringstream fs(froms);
    while (std::getline(fs, item, ',')) {
      item.erase(0, item.find_first_not_of(' '));
      INFO(header << ": row " << item);
      CHECK(names.count(item) == 1);
      CHECK(t.count(item) == 0);  // one row per state
      t[item] = to;
    }
  }
  return t;
}

template <typename S, typename Legal>
void check_table_matches(const char* header, const std::vector<std::pair<S, std::string>>& states, Legal legal) {
  std::set<std::string> names;
  for (const auto& s : states) names.insert(s.second);
  Table t = read_table(header, names);
  CHECK(t.size() == states.size());  // every state has its row
  for (const auto& [from, fname] : states) {
    for (const auto& [to, tname] : states) {
      INFO(header << ": " << fname << " -> " << tname);
      CHECK(legal(from, to) == (t[fname].count(tname) == 1));
    }
  }
}

using SS = SignalingClient::State;
const std::vector<std::pair<SS, std::string>> kSignalingStates = {
    {SS::Idle, "Idle"},       {SS::LoggingIn, "LoggingIn"},
    {SS::Connecting, "Connecting"}, {SS::Joining, "Joining"},
    {SS::Connected, "Connected"},   {SS::WaitingToReconnect, "WaitingToReconnect"},
    {SS::Closing, "Closing"}, {SS::Stopped, "Stopped"},
    {SS::Failed, "Failed"}};

using WS = WsClient::State;
const std::vector<std::pair<WS, std::string>> kWsStates = {
    {WS::Idle, "Idle"},     {WS::Connecting, "Connecting"}, {WS::Open, "Open"},
    {WS::Closing, "Closing"}, {WS::Closed, "Closed"},       {WS::Failed, "Failed"}};

}  // namespace

TEST_CASE("SignalingClient: the header's transition table is the code's") {
  check_table_matches("signaling_client.h", kSignalingStates, &SignalingClient::is_legal_transition);
}

TEST_CASE("WsClient: the header's transition table is the code's") {
  check_table_matches("ws_client.h", kWsStates, &WsClient::is_legal_transition);
}

TEST_CASE("SignalingClient: the main path is legal") {
  using S = SignalingClient::State;
  CHECK(SignalingClient::is_legal_transition(S::Idle, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::LoggingIn, S::Connecting));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::Joining));
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Connected));
  CHECK(SignalingClient::is_legal_transition(S::Connected, S::Closing));
  CHECK(SignalingClient::is_legal_transition(S::Closing, S::Stopped));
}

TEST_CASE("SignalingClient: reconnect and re-login paths are legal") {
  using S = SignalingClient::State;
  CHECK(SignalingClient::is_legal_transition(S::Connected, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::Connecting));
  CHECK(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::LoggingIn));
  CHECK(SignalingClient::is_legal_transition(S::Connecting, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::LoggingIn, S::WaitingToReconnect));
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::WaitingToReconnect));  // refused while reconnecting
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Failed));              // refused the first time
  CHECK(SignalingClient::is_legal_transition(S::Joining, S::Closing));             // stop() while joining
}

TEST_CASE("SignalingClient: final states stay final, and shortcuts are illegal") {
  using S = SignalingClient::State;
  for (const auto& [to, name] : kSignalingStates) {
    INFO(name);
    CHECK_FALSE(SignalingClient::is_legal_transition(S::Stopped, to));
    CHECK_FALSE(SignalingClient::is_legal_transition(S::Failed, to));
    CHECK_FALSE(SignalingClient::is_legal_transition(to, S::Idle));  // nothing goes back to the start
  }
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Idle, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Connecting, S::Connected));  // admission first
  CHECK_FALSE(SignalingClient::is_legal_transition(S::WaitingToReconnect, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Closing, S::Connected));
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Closing, S::Failed));         // leaving ends as Stopped
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Closing, S::WaitingToReconnect));  // no reconnect after stop()
  CHECK_FALSE(SignalingClient::is_legal_transition(S::Connected, S::Stopped));  // must close first
}

TEST_CASE("WsClient transitions") {
  using S = WsClient::State;
  CHECK(WsClient::is_legal_transition(S::Idle, S::Connecting));
  CHECK(WsClient::is_legal_transition(S::Connecting, S::Open));
  CHECK(WsClient::is_legal_transition(S::Connecting, S::Failed));
  CHECK(WsClient::is_legal_transition(S::Open, S::Closing));
  CHECK(WsClient::is_legal_transition(S::Open, S::Closed));
  CHECK(WsClient::is_legal_transition(S::Closing, S::Closed));
  CHECK_FALSE(WsClient::is_legal_transition(S::Closed, S::Open));
  CHECK_FALSE(WsClient::is_legal_transition(S::Closed, S::Closed));  // one on_ws_closed per connection
  CHECK_FALSE(WsClient::is_legal_transition(S::Failed, S::Connecting));
  CHECK_FALSE(WsClient::is_legal_transition(S::Idle, S::Open));
}
