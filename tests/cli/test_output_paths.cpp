#include "cli/output_paths.h"

#include <catch2/catch.hpp>

#include "test_helpers.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace callagent;
using namespace callagent::cli;

using callagent::test::TempDir;

TEST_CASE("output files: a missing or unusable directory is exit 73 naming option and path", "[cli][outputs]") {
  TempDir t;
  CHECK(check_output_file("--record", t.path + "/a.mkv"));
  CHECK(check_output_file("--record", ""));
  auto missing = check_output_file("--record", t.path + "/no/such/a.mkv");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ExitCode::CantCreate);
  CHECK(missing.error().message.find("--record") != std::string::npos);
  CHECK(missing.error().message.find(t.path + "/no/such/a.mkv") != std::string::npos);
  CHECK(missing.error().message.find("does not exist") != std::string::npos);

  // A directory where the file should be, and a file where the directory should be.
  g_mkdir(std::string(t.path + "/d.mkv").c_str(), 0700);
  CHECK_FALSE(check_output_file("--record", t.path + "/d.mkv"));
  std::ofstream(t.path + "/plain").put('x');
  auto under_file = check_output_file("--report", t.path + "/plain/r.json");
  REQUIRE_FALSE(under_file);
  CHECK(under_file.error().message.find("not a directory") != std::string::npos);
  // An existing writable file is fine (it is replaced).
  CHECK(check_output_file("--report", t.path + "/plain"));
}

TEST_CASE("output directories must exist and be directories", "[cli][outputs]") {
  TempDir t;
  CHECK(check_output_dir("--pipeline-graph", t.path));
  CHECK_FALSE(check_output_dir("--pipeline-graph", t.path + "/missing"));
  std::ofstream(t.path + "/f").put('x');
  CHECK_FALSE(check_output_dir("--pipeline-graph", t.path + "/f"));
}

TEST_CASE("every join output is checked", "[cli][outputs]") {
  TempDir t;
  JoinOptions o;
  o.report = t.path + "/r.json";
  CHECK(check_join_outputs(o));
  for (std::string JoinOptions::*field : {&JoinOptions::record, &JoinOptions::snapshot, &JoinOptions::report,
                                          &JoinOptions::junit, &JoinOptions::stats_log, &JoinOptions::dot_dir}) {
    JoinOptions bad;
    bad.*field = "/nonexistent/dir/x";
    auto st = check_join_outputs(bad);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == ExitCode::CantCreate);
  }
}
