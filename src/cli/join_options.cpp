// Registers `callagent join`'s options with CLI11, group by group, in the
// order --help prints them.
#include "cli/join_options.h"
#include "cli/option_group.h"
#include "media/media_options.h"

namespace callagent::cli {

void add_join_options(CLI::App& app, JoinOptions& o) {
  using D = OptionGroup::Default;
  app.add_option("room", o.room, "Room URL, or room id with --server");
  app.add_flag("--create", o.create, "Create a new room first and print its URL on stdout");
  add_connection_options(app, o.conn);
  add_logging_options(app, o.log);
  app.add_flag("!--no-reconnect", o.reconnect, "Give up when the signaling connection drops");

  OptionGroup send(app, "Sending");
  send.option("--video-source", o.video_source, "auto | test | v4l2[:DEVICE] | file:PATH | none", D::Shown);
  send.option("--audio-source", o.audio_source,
              "auto | test | alsa[:DEVICE] | pulse[:DEVICE] | file:PATH | none", D::Shown);
  send.flag("--loop", o.loop, "Loop file sources instead of ending the call at their end");
  send.option("--video", o.video_preset, "Video preset: 4k | 1080p | 720p | 480p", D::Shown);
  send.option("--fps", o.fps, "Frame rate: 60 | 30 | 24", D::Shown);
  send.option("--audio", o.audio_preset,
              "Audio preset: high (48 kHz stereo) | medium (44.1 kHz stereo) | low (32 kHz mono)", D::Shown);
  send.option("--video-codec", o.codec, "vp8 | vp9 | h264", D::Shown);
  send.option("--video-bitrate", o.video_bitrate, "Video bitrate in kbit/s (default: by preset)")
      ->check(CLI::Range(media::kMinVideoBitrateKbps, media::kMaxVideoBitrateKbps));
  send.option("--audio-bitrate", o.audio_bitrate, "Opus bitrate in kbit/s (default: by preset)")
      ->check(CLI::Range(6, 510));
  send.flag("!--no-audio-processing", o.audio_processing,
            "No echo cancellation / noise suppression / gain control on a microphone");
  send.flag("!--no-echo-cancel", o.echo_cancel,
            "Keep noise suppression and gain control but no echo cancellation (a headset, "
            "or a speakerphone that cancels echo itself)");
  send.flag("--mute-audio", o.mute_audio, "Start with the microphone muted (silence is sent)");
  send.flag("--mute-video", o.mute_video, "Start with the camera off (black frames are sent)");

  OptionGroup net(app, "Network");
  net.option("--stun", o.stun, "STUN server (stun:host:port)", D::Shown);
  net.flag("--no-stun", o.no_stun, "Use no STUN server");
  net.option("--turn", o.turn, "TURN server turn(s)://user:pass@host:port (repeatable)");
  net.option("--ice-ip", o.ice_ips,
             "Gather ICE candidates only on this local address (repeatable; tests use 127.0.0.1)");
  net.option("--ice-transport-policy", o.ice_transport_policy,
             "all | relay (only relayed candidates: every packet goes through a --turn server)", D::Shown);
  net.option("--jitter-buffer", o.jitter_ms,
             "Receive jitter buffer in ms, fixed (default: adaptive, 60 ms raised to 2 x RTT + 50 ms, at most 1 s)")->check(CLI::Range(0, 5000));
  net.option("--congestion-control", o.congestion_control,
             "on: the encoders follow what each partner's reports say the path carries (bitrate, then "
             "resolution); off: the preset's fixed rate",
             D::Shown)
      ->check(CLI::IsMember({"on", "off"}));

  OptionGroup out(app, "Remote media");
  out.flag("--display", o.display, "Show the remote video and play its audio");
  out.option("--video-sink", o.video_sink, "Video sink element for --display (e.g. kmssink)");
  out.option("--audio-sink", o.audio_sink, "Audio sink element for --display");
  out.flag("--fullscreen,!--no-fullscreen", o.fullscreen,
           "Show the video full screen (the default with --display), or in a window of the video's size");
  out.option("--self-view", o.self_view,
             "With --display: the local camera's picture in a corner of the screen (top-left, top-right, "
             "bottom-left, bottom-right; X11), or off")
      ->check(CLI::IsMember({"off", "top-left", "top-right", "bottom-left", "bottom-right"}));
  out.option("--record", o.record, "Record the remote VP8/Opus to FILE.mkv or FILE.webm");
  out.option("--rtmp", o.rtmp, "Restream the remote media as H.264/AAC to rtmp://...");
  out.option("--pipeline-graph", o.dot_dir,
             "Write pipeline graphs (.dot, and .svg with graphviz) to this directory: at PLAYING, "
             "at the first remote video, and on errors");
  out.option("--snapshot", o.snapshot, "Write the last remote video frame to FILE.png at exit");
  out.option("--snapshot-every", o.snapshot_every,
             "Also write a numbered series FILE-0001.png, ... this often (e.g. 10s; needs --snapshot)");

  OptionGroup quality(app, "Call quality (docs/report.md)");
  quality.option("--stats-interval", o.stats_interval, "Poll webrtcbin statistics this often (0: never)",
                 D::Shown);
  quality.option("--stats-log", o.stats_log, "Append one JSON object per stats interval to FILE");
  quality.option("--report", o.report, "Write a JSON report to FILE at exit (also after failures)");
  quality.option("--junit", o.junit, "Write the expectations as JUnit XML to FILE at exit");
  quality.option("--expect", o.expect,
                 "Assert on the call, e.g. video.in.fps>=25, video.in.freezes==0, setup.first_video<2s "
                 "(repeatable; a failure exits 1)");
  quality.option("--warm-up", o.warmup, "Ignore this long after the connection for --expect and the summary",
                 D::Shown);
  quality.flag("--latency-probe", o.latency_probe,
               "Stamp sent video with the capture time and measure the glass-to-glass delay of received "
               "video (both agents need it; same machine or synchronized clocks)");
  quality.flag("!--no-status", o.status, "No live status line");

  // Test only, hidden from --help: pause the sent video AT after connecting
  // for FOR (freeze tests); delay sent video by this much after the latency
  // stamp; the element (or gst-launch description) that stands in for a
  // v4l2/alsa/pulse device (a camera that fails on cue: "... ! identity
  // error-after=N").
  OptionGroup hidden(app, "");
  hidden.option("--test-freeze-at", o.test_freeze, "");
  hidden.option("--test-send-delay", o.test_send_delay, "");
  hidden.option("--test-device-element", o.test_device_element, "");

  OptionGroup life(app, "Lifetime");
  life.option("--duration", o.duration, "End the call this long after it first connected (e.g. 30s)");
  life.flag("--leave-when-alone", o.leave_when_alone, "End when the partner leaves");
  life.option("--wait-for-partner", o.wait_for_partner,
              "Fail with exit code 2 if nobody joins within this time (e.g. 60s)");

  OptionGroup failures(app, "Failures");
  failures.option("--connect-timeout", o.connect_timeout,
                  "Fail with exit code 3 if no connection is up this long after the partner arrived, across "
                  "retries (0: retry for ever, with backoff)",
                  D::Shown);
  failures.option("--output-errors", o.output_errors,
                  "An output (a recording, a snapshot) that fails during the call is stopped and the call "
                  "goes on; report: exit with the output's code at the end | ignore: only log it | fail: end "
                  "the call at once",
                  D::Shown);

  OptionGroup ops(app, "Operations");
  ops.option("--metrics", o.metrics,
             "Serve Prometheus metrics at http://ADDR:PORT/metrics (PORT alone: on 127.0.0.1; "
             "docs/metrics.md)");

  OptionGroup ctl(app, "Control (docs/control.md)");
  ctl.option("--control", o.control,
             "Listen on this Unix socket for commands (mute, status, stats, hangup, chat, ...; "
             "`callagent ctl` is its client)");
  ctl.option("--control-mode", o.control_mode, "The socket's file mode (e.g. 0660 for a group)", D::Shown);
  ctl.option("--events", o.events, "Write the call's events (joined, connected, chat, muted, ...) as JSON lines to FILE, or - for stdout");
  ctl.option("--script", o.script,
             "Run a timed scenario: lines like `5s mute audio`, `15s hangup rejoin`, `25s quit`, timed from the first connection");
}

}  // namespace callagent::cli
