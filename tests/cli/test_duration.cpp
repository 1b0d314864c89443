// Durations on the command line (src/cli/duration.h).
#include "cli/duration.h"

#include <catch2/catch.hpp>

using callagent::ExitCode;
using callagent::cli::parse_duration;
using std::chrono::milliseconds;

namespace {
long long ms(std::string_view text) {
  auto d = parse_duration(text, "--duration");
  INFO(text);
  REQUIRE(d);
  return d->count();
}
}  // namespace

TEST_CASE("durations: units and fractions", "[cli][duration]") {
  CHECK(ms("30s") == 30'000);
  CHECK(ms("1.5s") == 1'500);
  CHECK(ms("500ms") == 500);
  CHECK(ms("2m") == 120'000);
  CHECK(ms("2min") == 120'000);
  CHECK(ms("1h") == 3'600'000);
  CHECK(ms("10") == 10'000);  // bare seconds
  CHECK(ms("0") == 0);
  CHECK(ms("0.0005s") == 1);  // rounded to the nearest millisecond
  CHECK(ms("8760h") == 8760LL * 3'600'000);  // a year is the limit
}

TEST_CASE("durations: bad text is a usage error naming the option", "[cli][duration]") {
  for (const char* bad : {"", "s", "ms", "-1s", "1x", "1 s", "1.2.3s", "abc", "1e3", "8761h", "1sec", ".s"}) {
    INFO("'" << bad << "'");
    auto d = parse_duration(bad, "--wait-for-partner");
    REQUIRE_FALSE(d);
    CHECK(d.error().code == ExitCode::Usage);
    CHECK(d.error().message.find("--wait-for-partner") != std::string::npos);
    CHECK(d.error().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
}
