#pragma once
// The open-files limit (RLIMIT_NOFILE) and what it allows the server.
//
// Every WebSocket holds one descriptor for as long as it is open, so the
// soft limit caps the connections the server can hold. Service managers and
// shells start processes with a soft limit of 1024 for the sake of old
// select() code, and a much higher hard limit (systemd: 524288). The server
// polls with poll() only, so `callagent serve` raises its soft limit to the
// hard limit at start, as Go's runtime and nginx do.
//
// Running out of descriptors is worse than a refused connection: libsoup
// 3.2 stops accepting for good after one failed accept() (EMFILE), and the
// server would never take a connection again. So the server never admits
// more WebSockets than fit below the soft limit with kReservedFiles to
// spare (connections_that_fit), whatever --max-connections says.

#include <cstddef>
#include <cstdint>
#include <string>

namespace callagent::server {

struct FileLimit {
  static constexpr std::uint64_t kUnlimited = UINT64_MAX;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Descriptors kept for everything but WebSockets: stdio, the listening
// socket, the database and its journal, GLib's wakeup descriptor, plain
// HTTP requests being answered (logins, /create, pages), TLS and DNS.
constexpr std::size_t kReservedFiles = 64;

// The soft limit to ask for: the hard limit, or the kernel's per-process
// ceiling (/proc/sys/fs/nr_open) when the hard limit is unlimited. Never
// lower than the current soft limit.
std::uint64_t raise_target(FileLimit current, std::uint64_t kernel_ceiling);

// WebSocket connections that fit below `soft` open files.
std::size_t connections_that_fit(std::uint64_t soft);

struct RaiseOutcome {
  FileLimit before;
  FileLimit after;
  std::string error;  // empty when getrlimit/setrlimit worked
};

// Reads the limit and raises the soft limit to raise_target().
RaiseOutcome raise_open_files_limit();
FileLimit current_open_files_limit();

// One log line about `o`, e.g. "open files: soft limit raised from 1024 to
// 524288 (the hard limit)".
std::string describe(const RaiseOutcome& o);

}  // namespace callagent::server
