#include "server/open_files.h"

#include <catch2/catch.hpp>
#include <sys/resource.h>

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

TEST_CASE("raise_open_files_limit raises this process's soft limit", "[open_files]") {
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  if (saved.rlim_max == RLIM_INFINITY || saved.rlim_max < 128) {
    WARN("not run: needs a finite hard limit of 128 or more");
    return;
  }
  rlimit low = saved;
  low.rlim_cur = 100;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  RaiseOutcome o = raise_open_files_limit();
  rlimit now{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
  setrlimit(RLIMIT_NOFILE, &saved);
  CHECK(o.error.empty());
  CHECK(o.before.soft == 100);
  CHECK(o.after.soft == static_cast<std::uint64_t>(saved.rlim_max));
  CHECK(now.rlim_cur == saved.rlim_max);
  CHECK(current_open_files_limit().soft == static_cast<std::uint64_t>(saved.rlim_cur));
}
