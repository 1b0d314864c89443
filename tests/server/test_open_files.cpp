#include "server/open_files.h"

#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

using namespace callagent::server;

namespace {
constexpr std::uint64_t kCeiling = 1048576;  // a kernel's fs.nr_open
}

TEST_CASE("the soft limit goes up to the hard limit", "[open_files]") {
  CHECK(raise_target({1024, 524288}, kCeiling) == 524288);
  CHECK(raise_target({1024, 1024}, kCeiling) == 1024);
  // Unlimited is refused by Linux for RLIMIT_NOFILE: the kernel's ceiling.
  CHECK(raise_target({1024, FileLimit::kUnlimited}, kCeiling) == kCeiling);
  // Never lowered.
  CHECK(raise_target({FileLimit::kUnlimited, FileLimit::kUnlimited}, kCeiling) == FileLimit::kUnlimited);
  CHECK(raise_target({4096, 2048}, kCeiling) == 4096);
}

TEST_CASE("connections that fit keep descriptors for the rest of the server", "[open_files]") {
  CHECK(connections_that_fit(0) == 0);
  CHECK(connections_that_fit(kReservedFiles) == 0);
  CHECK(connections_that_fit(kReservedFiles + 1) == 1);
  CHECK(connections_that_fit(1024) == 1024 - kReservedFiles);
  CHECK(connections_that_fit(200) == 136);
  CHECK(connections_that_fit(FileLimit::kUnlimited) > 1000000);
}

TEST_CASE("describe says what happened", "[open_files]") {
  RaiseOutcome raised{{1024, 524288}, {524288, 524288}, ""};
  CHECK(describe(raised) == "open files: soft limit raised from 1024 to 524288 (the hard limit)");
  RaiseOutcome same{{1024, 1024}, {1024, 1024}, ""};
  CHECK(describe(same) == "open files: soft limit 1024 (hard limit 1024)");
  RaiseOutcome failed{{1024, 4096}, {1024, 4096}, "setrlimit: Operation not permitted"};
  CHECK(describe(failed) ==
        "open files: cannot raise the soft limit 1024 (hard limit 4096): setrlimit: Operation not "
        "permitted");
  RaiseOutcome unlimited{{1024, FileLimit::kUnlimited}, {kCeiling, FileLimit::kUnlimited}, ""};
  CHECK(describe(unlimited) ==
        "open files: soft limit raised from 1024 to 1048576 (hard limit unlimited)");
}

// In a child process, with a hard limit of its own (lowering it is always
// allowed), so the case runs whatever this machine's limits are and leaves
// the test process's limits alone.
TEST_CASE("raise_open_files_limit raises this process's soft limit", "[open_files]") {
  constexpr rlim_t kHard = 4096;
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  REQUIRE((saved.rlim_max == RLIM_INFINITY || saved.rlim_max >= 128));
  const rlim_t hard = saved.rlim_max == RLIM_INFINITY ? kHard : std::min<rlim_t>(saved.rlim_max, kHard);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // No Catch2 here: the child says what went wrong and exits.
    int failures = 0;
    auto expect = [&](bool ok, const char* what) {
      if (!ok) {
        std::fprintf(stderr, "child: %s\n", what);
        ++failures;
      }
    };
    rlimit low{100, hard};
    if (setrlimit(RLIMIT_NOFILE, &low) != 0) _exit(2);
    RaiseOutcome o = raise_open_files_limit();
    rlimit now{};
    getrlimit(RLIMIT_NOFILE, &now);
    expect(o.error.empty(), "raise_open_files_limit reported an error");
    expect(o.before.soft == 100, "before.soft is the limit before");
    expect(o.after.soft == static_cast<std::uint64_t>(hard), "after.soft is the hard limit");
    expect(now.rlim_cur == hard, "the process's soft limit is the hard limit");
    expect(current_open_files_limit().soft == static_cast<std::uint64_t>(hard), "current_open_files_limit");
    _exit(failures == 0 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 2: setrlimit refused; 1: see the child's lines above
}
