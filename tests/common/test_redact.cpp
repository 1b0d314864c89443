// logging::redact(): what a log line may show of a secret.
#include "common/logging.h"

#include <catch2/catch.hpp>

#include <string>

using callagent::logging::redact;

TEST_CASE("redact: at most a quarter of the secret, and at most 4 characters", "[common][redact]") {
  CHECK(redact("") == "(empty)");
  CHECK(redact("abc") == "…");                // too short to show any of it
  CHECK(redact("abcdefgh") == "ab…");
  CHECK(redact("0123456789abcdef") == "0123…");
  CHECK(redact(std::string(200, 'x')) == "xxxx…");
}

TEST_CASE("redact: a secret never appears whole", "[common][redact]") {
  const std::string token = "tok-SECRET-0123456789abcdef";
  for (size_t n = 1; n <= token.size(); ++n) {
    const std::string secret = token.substr(0, n);
    const std::string shown = redact(secret);
    INFO(secret << " -> " << shown);
    CHECK(shown.find(secret) == std::string::npos);
    CHECK(shown.size() <= 4 + std::string("…").size());
  }
}

// logging::known_upstream_bug(): the one GStreamer critical we log as a
// warning, and nothing else.
TEST_CASE("known upstream bug: rtpsession's source-table race only, on its RTCP thread", "[common][log]") {
  using callagent::logging::known_upstream_bug;
  const std::string race = "g_hash_table_foreach: assertion 'version == hash_table->version' failed";
  CHECK(known_upstream_bug("GLib", race, "rtpsession-rtcp") != nullptr);
  // The same check failing anywhere else is not that bug.
  CHECK(known_upstream_bug("GLib", race, "callagent") == nullptr);
  CHECK(known_upstream_bug("GLib", race, "") == nullptr);
  CHECK(known_upstream_bug("GLib-GObject", race, "rtpsession-rtcp") == nullptr);
  CHECK(known_upstream_bug("GLib", "g_hash_table_insert: assertion 'hash_table != NULL' failed", "rtpsession-rtcp") ==
        nullptr);
}
