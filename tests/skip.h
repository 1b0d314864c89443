#pragma once
// Skips in Catch2 tests. A case that cannot run on this machine (a plugin,
// a device or a server that is not installed) says so with
//
//   CALLAGENT_SKIP("libnginx-mod-rtmp is not installed");
//
// in its TEST_CASE body: the reason is recorded and printed and the case
// returns. Catch2 2.x has no skip of its own, so such a case would count as
// a pass; tests/catch2_main.cpp turns recorded skips into the binary's exit
// code instead: 1 if any case failed, else 77 (meson's SKIP) if any case
// skipped, else 0. A skip therefore never shows as a pass, and a binary
// that mixes skipping and passing cases reports SKIP with every reason, so
// give a capability-dependent case its own tag and meson test.
//
// With CALLAGENT_TEST_NO_SKIP=1 in the environment (machines that must run
// everything) a skip is a failure (exit 1).

#include <sstream>
#include <string>

namespace callagent_test {

// Records that the running test case skipped, and why.
void record_skip(const std::string& reason);

}  // namespace callagent_test

#define CALLAGENT_SKIP(reason)                           \
  do {                                                   \
    std::ostringstream callagent_skip_reason_;           \
    callagent_skip_reason_ << reason;                    \
    ::callagent_test::record_skip(callagent_skip_reason_.str()); \
    return;                                              \
  } while (0)
