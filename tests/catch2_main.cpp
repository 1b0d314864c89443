// The main of every Catch2 test binary: Catch2's own run, then the exit
// code that tells meson the truth (see tests/skip.h): 1 when a case failed,
// 77 (SKIP) when a case recorded a skip, 1 when the filter matched no case
// at all (a misspelt tag in meson.build must not pass), else 0.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "skip.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Skips {
  std::string current;  // the running test case
  std::vector<std::pair<std::string, std::string>> list;  // case, reason
  size_t cases_run = 0;
};

Skips& skips() {
  static Skips s;
  return s;
}

struct SkipListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    skips().current = info.name;
    ++skips().cases_run;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipListener)

namespace callagent_test {

void record_skip(const std::string& reason) {
  auto& s = skips();
  for (const auto& [name, r] : s.list)
    if (name == s.current && r == reason) return;  // the same case again, for another SECTION
  s.list.emplace_back(s.current, reason);
  std::printf("SKIP %s: %s\n", s.current.c_str(), reason.c_str());
  std::fflush(stdout);
}

}  // namespace callagent_test

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const int rc = session.run();
  const auto& cfg = session.configData();
  if (cfg.listTests || cfg.listTags || cfg.listReporters || cfg.listTestNamesOnly || cfg.showHelp) return rc;
  if (rc != 0) return rc;
  const auto& s = skips();
  if (s.cases_run == 0) {
    std::printf("FAIL: no test case matched the filter\n");
    return 1;
  }
  if (s.list.empty()) return 0;
  std::printf("%zu of %zu test cases skipped (not run here, not passed):\n", s.list.size(), s.cases_run);
  for (const auto& [name, reason] : s.list) std::printf("  SKIP %s: %s\n", name.c_str(), reason.c_str());
  if (const char* strict = std::getenv("CALLAGENT_TEST_NO_SKIP"); strict && *strict && std::string(strict) != "0") {
    std::printf("CALLAGENT_TEST_NO_SKIP is set: a skip is a failure here\n");
    return 1;
  }
  return 77;
}
