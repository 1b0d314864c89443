#include "cli/output_paths.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace callagent::cli {

namespace {
namespace fs = std::filesystem;

Error cannot(const std::string& option, const std::string& path, const std::string& why) {
  return Error{ExitCode::CantCreate,
               option + ": cannot create '" + path + "': " + why + " (create it, or choose another path)"};
}

// The directory a new entry at `path` would go into.
fs::path parent_of(const std::string& path) {
  fs::path p(path);
  fs::path dir = p.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

Status writable_dir(const std::string& option, const std::string& path, const fs::path& dir) {
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (ec || !fs::exists(st))
    return cannot(option, path, "directory '" + dir.string() + "' does not exist");
  if (!fs::is_directory(st)) return cannot(option, path, "'" + dir.string() + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return cannot(option, path, "directory '" + dir.string() + "' is not writable: " + std::strerror(errno));
  return Ok{};
}
}  // namespace

Status check_output_file(const std::string& option, const std::string& path) {
  if (path.empty()) return Ok{};
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (!ec && fs::exists(st)) {
    if (fs::is_directory(st)) return cannot(option, path, "it is a directory");
    if (::access(path.c_str(), W_OK) != 0)
      return cannot(option, path, std::string("it is not writable: ") + std::strerror(errno));
    return Ok{};
  }
  return writable_dir(option, path, parent_of(path));
}

Status check_output_dir(const std::string& option, const std::string& path) {
  if (path.empty()) return Ok{};
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (!ec && fs::exists(st)) {
    if (!fs::is_directory(st)) return cannot(option, path, "it exists and is not a directory");
    if (::access(path.c_str(), W_OK | X_OK) != 0)
      return cannot(option, path, std::string("it is not writable: ") + std::strerror(errno));
    return Ok{};
  }
  return cannot(option, path, "directory does not exist");
}

Status check_join_outputs(const JoinOptions& o) {
  for (const auto& [option, path] : {std::pair<const char*, const std::string&>{"--record", o.record},
                                     {"--snapshot", o.snapshot},
                                     {"--report", o.report},
                                     {"--junit", o.junit},
                                     {"--stats-log", o.stats_log}})
    if (auto st = check_output_file(option, path); !st) return st;
  return check_output_dir("--pipeline-graph", o.dot_dir);
}

}  // namespace callagent::cli
