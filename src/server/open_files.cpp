#include "server/open_files.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace callagent::server {

namespace {

std::uint64_t from_rlim(rlim_t v) {
  return v == RLIM_INFINITY ? FileLimit::kUnlimited : static_cast<std::uint64_t>(v);
}

std::string show(std::uint64_t v) {
  return v == FileLimit::kUnlimited ? std::string("unlimited") : std::to_string(v);
}

// Linux refuses a RLIMIT_NOFILE above fs.nr_open (1048576 by default).
std::uint64_t kernel_ceiling() {
  std::ifstream f("/proc/sys/fs/nr_open");
  std::uint64_t v = 0;
  if (f >> v && v > 0) return v;
  return 1u << 20;
}

}  // namespace

std::uint64_t raise_target(FileLimit current, std::uint64_t ceiling) {
  std::uint64_t target = current.hard == FileLimit::kUnlimited ? ceiling : current.hard;
  return std::max(current.soft, target);
}

std::size_t connections_that_fit(std::uint64_t soft) {
  if (soft <= kReservedFiles) return 0;
  std::uint64_t fit = soft - kReservedFiles;
  return fit > SIZE_MAX ? SIZE_MAX : static_cast<std::size_t>(fit);
}

FileLimit current_open_files_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  return FileLimit{from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
}

RaiseOutcome raise_open_files_limit() {
  RaiseOutcome o;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    o.error = std::string("getrlimit: ") + std::strerror(errno);
    return o;
  }
  o.before = FileLimit{from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
  o.after = o.before;
  std::uint64_t target = raise_target(o.before, kernel_ceiling());
  if (target == o.before.soft) return o;
  rlimit want = rl;
  want.rlim_cur = static_cast<rlim_t>(target);
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
    o.error = std::string("setrlimit: ") + std::strerror(errno);
    return o;
  }
  o.after = current_open_files_limit();
  return o;
}

std::string describe(const RaiseOutcome& o) {
  if (!o.error.empty())
    return "open files: cannot raise the soft limit " + show(o.before.soft) + " (hard limit " +
           show(o.before.hard) + "): " + o.error;
  if (o.after.soft == o.before.soft)
    return "open files: soft limit " + show(o.after.soft) + " (hard limit " + show(o.after.hard) +
           ")";
  return "open files: soft limit raised from " + show(o.before.soft) + " to " + show(o.after.soft) +
         (o.after.hard == o.after.soft ? " (the hard limit)" : " (hard limit " + show(o.after.hard) + ")");
}

}  // namespace callagent::server
