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
