#pragma once
// The command line of `callagent join`, as typed: JoinOptions holds the raw
// values (strings for durations and sources, so that errors can quote what
// the user wrote) and add_join_options() registers them with CLI11 in their
// --help groups. join_session_options.h translates them for the call layer;
// join_report.h writes them, secrets masked, into the report.
//
// JoinOptions is a plain value: tests build one directly.

#include "cli/common_options.h"

#include <optional>
#include <string>
#include <vector>

namespace callagent::cli {

struct JoinOptions {
  ConnectionOptions conn;
  LoggingOptions log;
  std::string room;
  bool create = false;
  bool reconnect = true;
  // Sending.
  std::string video_source = "auto";
  std::string audio_source = "auto";
  bool loop = false;
  std::string video_preset = "1080p";
  int fps = 30;
  std::string audio_preset = "high";
  std::string codec = "vp8";
  std::optional<int> video_bitrate;
  std::optional<int> audio_bitrate;
  bool audio_processing = true;
  bool echo_cancel = true;
  bool mute_audio = false;
  bool mute_video = false;
  // Network.
  std::string stun = "stun:stun.l.google.com:19302";
  bool no_stun = false;
  std::vector<std::string> turn;  // may hold user:password: see secret_mask.h
  std::vector<std::string> ice_ips;
  std::string ice_transport_policy = "all";
  // Unset: adaptive (starts at 60 ms, follows the measured RTT); set: pinned.
  std::optional<int> jitter_ms;
  std::string congestion_control = "on";  // on | off
  // Remote media.
  bool display = false;
  std::string video_sink;
  std::string audio_sink;
  bool fullscreen = true;
  std::string self_view = "off";
  std::string record;
  std::string rtmp;  // its last path segment is the stream key (a secret)
  std::string dot_dir;
  std::string snapshot;
  std::string snapshot_every;
  // Call quality.
  std::string stats_interval = "1s";
  std::string stats_log;
  std::string report;
  std::string junit;
  std::vector<std::string> expect;
  std::string warmup = "2s";
  bool latency_probe = false;
  bool status = true;
  std::string test_freeze;      // hidden, AT:FOR
  std::string test_send_delay;  // hidden
  std::string test_device_element;  // hidden: MediaOptions::substitute_device_element
  // Lifetime.
  std::string duration;
  bool leave_when_alone = false;
  std::string wait_for_partner;
  // Failures.
  std::string connect_timeout = "30s";  // 0: retry for ever (with backoff)
  std::string output_errors = "report";  // report | ignore | fail
  // Operations.
  std::string metrics;  // ADDR:PORT of the Prometheus endpoint ("" = none)
  // Control of the running call (docs/control.md).
  std::string control;              // --control PATH: the Unix socket
  std::string control_mode = "0600";
  std::string events;               // --events FILE|-
  std::string script;               // --script FILE
};

// Registers ROOM and every option of join, in --help's order.
void add_join_options(CLI::App& app, JoinOptions& o);

}  // namespace callagent::cli
