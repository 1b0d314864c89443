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

// A GLib critical that is a known bug of the GStreamer release we run on,
// harmless for us, described for the log; nullptr for anything else (every
// other critical stays an error). The one known today: GStreamer 1.22.0's
// rtpsession walks its table of sources on its RTCP thread ("rtpsession-
// rtcp") and drops its lock in the middle (to look up a payload's clock
// rate, or to schedule a NACK); a packet of a new SSRC (the partner's
// streams, its RTX, at the start of a call) adds to the table meanwhile,
// and GLib's check "g_hash_table_foreach: assertion 'version ==
// hash_table->version' failed" fires. The walk only stops early: that
// round's report or NACK scheduling is cut short and goes with the next.
// Fixed for the clock-rate case in GStreamer 1.22.3.
const char* known_upstream_bug(std::string_view domain, std::string_view message, std::string_view thread);

}  // namespace callagent::logging
