#pragma once
// Small helpers shared by the Catch2 programs (each program is one unity
// build, tests/meson.build: a helper defined in two of its files would
// clash, so it lives here once).

#include <glib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace callagent::test {

inline bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// A scratch directory under $TMPDIR, removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const char* tmpl = "callagent-test-XXXXXX") {
    gchar* p = g_dir_make_tmp(tmpl, nullptr);
    if (p) path = p;
    g_free(p);
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace callagent::test
