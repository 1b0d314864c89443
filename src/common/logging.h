#pragma once
// Logging: spdlog, one logger per area ("auth", "ws", "webrtc", "media",
// "server", "call", "cli", ...), all writing to stderr so that stdout stays
// for a command's output (room URLs, chat lines, JSON).
//
// Never log a password. Never log a full token: use redact().

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace callagent::logging {

enum class Format { Text, Json };

// verbosity: 0 = info (default), 1 = debug (-v), 2+ = trace (-vv);
// negative = warnings only (-q), <= -2 errors only.
void setup(int verbosity, Format format);

// The logger of one area; created on first use with the current settings.
std::shared_ptr<spdlog::logger> get(const std::string& area);

// A short, safe prefix of a secret for log lines: "abcd…" (or "(empty)").
std::string redact(std::string_view secret);

// Routes GLib's logging, plain (g_log: GLib, libsoup, json-glib) and
// structured (g_log_structured: glib-networking, GIO), into spdlog by
// installing GLib's log writer; g_debug becomes trace. Once per process.
void capture_glib_logs();

}  // namespace callagent::logging
