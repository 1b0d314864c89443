#pragma once
// The control commands: their one table (command_table(), which --help,
// docs/control.md and the tests read), a request checked into a typed
// Command (to_command), and the words of `callagent ctl` and --script
// turned into the same requests (request_from_words). So the socket, the
// script and ctl share one parser and one dispatcher.
//
// Pure: json-glib only.

#include "common/result.h"
#include "control/request.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callagent::control {

struct CommandInfo {
  std::string_view name;
  std::string_view args;   // JSON args, as docs/control.md shows them
  std::string_view words;  // ctl / --script form
  std::string_view meaning;
};
std::span<const CommandInfo> command_table();

struct EventInfo {
  std::string_view name;
  std::string_view fields;
  std::string_view meaning;
};
std::span<const EventInfo> event_table();
bool is_event_name(std::string_view name);

struct Command {
  enum class Kind { Mute, Unmute, Status, Stats, Hangup, Quit, Chat, Keyframe, Snapshot, Subscribe, Unsubscribe, Set, Source };
  Kind kind = Kind::Status;
  bool audio = false, video = false;  // mute / unmute: which tracks
  bool rejoin = false;                // hangup
  std::string text;                   // chat
  std::string path;                   // snapshot ("" = the --snapshot path)
  std::vector<std::string> events;    // subscribe / unsubscribe ([] = all)
  // set: what to change (absent: unchanged). Checked here for form; the
  // values themselves (a known preset, a supported frame rate) by the
  // target, with the same parsers as the command line.
  std::optional<std::string> video_size;    // "480p", "720p", ...
  std::optional<int> fps;
  std::optional<int> bitrate_kbps;          // video; 0 = by the preset
  std::optional<std::string> audio_preset;  // "low", "medium", "high"
  // source: the new sources, as --video-source / --audio-source take them.
  std::optional<std::string> video_source, audio_source;
};

// Checks the command and its args (unknown members, wrong types, missing
// values are refused: the message says what is wrong).
Result<Command> to_command(const Request& r);

// "mute audio", "mute --audio --video", "hangup rejoin", "chat hello there",
// "snapshot /tmp/x.png", "subscribe chat stats", "set video 480p fps 15"
// -> the request (not yet
// checked: to_command does that). Usage error for an unknown command.
Result<Request> request_from_words(const std::vector<std::string>& words);

}  // namespace callagent::control
