// `callagent --version`: release, git revision, GStreamer version.
#include "callagent_config.h"
#include "cli/build_info.h"

#include <catch2/catch.hpp>
#include <gst/gst.h>

#include <regex>
#include <string>

using namespace callagent::cli;

TEST_CASE("--version names the release, the revision and the GStreamer it runs with") {
  const std::string v = version_text();
  INFO(v);
  CHECK(v.rfind(std::string("callagent ") + CALLAGENT_VERSION + " (git ", 0) == 0);
  // A revision is 10+ hex digits (optionally -dirty, or a describe with a
  // tag), or "unknown" for a build outside a git checkout.
  CHECK(std::regex_search(v, std::regex(R"(\(git ([0-9a-f]{10,}|[\w.\-]+-g[0-9a-f]+|unknown)(-dirty)?\))")));
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  CHECK(v.find("GStreamer " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro)) !=
        std::string::npos);
}
