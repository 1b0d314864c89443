#pragma once
// CallSession: one `callagent join` run. It owns the media engine, the
// signaling client and the Call state machine, and adapts them to each
// other (call/peer.h): the Call decides, the engine and the client act.
//
// Shutdown order (finish() from a signal, the Call ending, or a fatal
// error): the Call is finished first (no new negotiation), then the media
// engine stops (EOS through the outputs: recordings are finalized), then
// the WebSocket is closed cleanly (the partner sees "leave"), then `done`
// runs with the exit code. Each step is bounded in time by its owner.
// Every ending takes this path (SIGINT/SIGTERM, --duration, the partner
// leaving with --leave-when-alone, the connect budget, a fatal signaling or
// media error, the server gone for good), so every recording is finalized:
// the engine's stop() also waits (bounded) for peers already closing.
//
// Outputs that fail during the call (a recording on a full disk, a
// snapshot that cannot be written) are stopped by their owners and
// collected here (output_failures()); with OutputErrors::Report the first
// one's code (io-error, cant-create) replaces a successful exit code.
//
// Everything runs on the thread-default main context.

#include "call/call.h"
#include "common/main_context.h"
#include "media/media_engine.h"
#include "media/slate.h"
#include "signaling/signaling_client.h"
#include "stats/stats_collector.h"
#include "stats/status_line.h"

#include <functional>
#include <optional>
#include <utility>
#include <variant>
#include <vector>
#include <memory>
#include <string>

namespace callagent::call {

// What an output that fails during the call does to the run (--output-errors).
enum class OutputErrors {
  Report,  // the output stops, the call goes on, the exit code says it at the end
  Ignore,  // the output stops, the call goes on, only the log says it
  Fail,    // the call ends at once with the output's code
};

struct SessionOptions {
  signaling::SignalingOptions signaling;
  media::MediaOptions media;
  CallOptions call;
  OutputErrors output_errors = OutputErrors::Report;
  bool mute_audio = false;  // start muted (silence / black frames keep the tracks)
  bool mute_video = false;

  // Call quality.
  stats::StatsCollector::Options stats;     // interval 0: no polling
  bool status_line = true;                  // the live status (stats polling on)
  bool status_tty = false;                  // redraw in place (stderr is a terminal)
  std::string snapshot_path;                // --snapshot FILE.png ("" = none)
  std::optional<std::chrono::milliseconds> snapshot_every;  // numbered series FILE-0001.png, ...
  // Test only (--test-freeze-at AT:FOR): pause the sent video AT after the
  // first connection, for FOR.
  std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> test_freeze;
};

// What a controller hears of the run (src/control: the control socket,
// --events). Field values are strings, booleans or numbers.
struct SessionEvent {
  using Value = std::variant<std::string, bool, double>;
  std::string name;  // partner-joined | partner-left | connected | disconnected | reconnecting | chat | muted | error
  std::vector<std::pair<std::string, Value>> fields;
};

// The run as it stands: the control socket's `status`, the service
// manager's STATUS line, the metrics.
struct SessionStatus {
  // The call's state (idle, alone, negotiating, connected), or hung-up /
  // leaving (out of the room on request), stopping, finished.
  std::string state = "idle";
  std::string server, room, partner;  // partner: the current partner's user id ("" when none)
  int peer = 0;                       // the current peer connection's id (0: none)
  std::optional<stats::CandidatePair> ice;  // the ICE path of the last stats interval
  bool audio_muted = false, video_muted = false;
  std::string video_source, audio_source;
  media::VideoPreset video;       // what is sent now (the ladder's rung when congestion control runs)
  media::AudioPreset audio;
  int64_t video_target_bps = 0;   // the encoder's target now (0: the preset's fixed rate)
  std::string recording;          // the current partner's recording ("" = none)
  std::vector<std::string> recordings;  // every recording of the run so far
  std::string snapshot_path;      // --snapshot
  std::vector<std::string> snapshots;
  std::string stats_log;
  int partners_connected = 0;
  bool partner_present = false;      // a partner is in the room
  bool signaling_connected = false;  // the WebSocket is up and in the room
  uint64_t signaling_reconnects = 0;
};

// Totals over every partner of the run, for the summary and tests.
struct SessionTotals {
  int partners_connected = 0;
  uint64_t video_frames_received = 0;
  uint64_t audio_buffers_received = 0;
  int last_width = 0;
  int last_height = 0;
  std::vector<std::string> recordings;
};


class CallSession final : private signaling::SignalingClient::Listener,
                          private media::MediaEngine::Listener,
                          private CallObserver,
                          private CallSignaling,
                          private PeerFactory,
                          private stats::StatsCollector::Source {
 public:
  using Done = std::function<void(ExitCode code, const std::string& reason)>;

  // Builds the media pipeline (checks plugins and sources) and the
  // signaling client; no network I/O yet. gst_init() must have run.
  static Result<std::unique_ptr<CallSession>> create(SessionOptions options, Done done);
  ~CallSession() override;

  void start();
  // Ends the session (SIGINT/SIGTERM: code Ok). Idempotent.
  void finish(ExitCode code, const std::string& reason);

  SessionTotals totals() const;

  // ---- control of the running call (src/control calls these; main context) ----
  // Every event of the run as it happens (one listener; empty: none).
  void set_event_listener(std::function<void(const SessionEvent&)> fn) { on_event_ = std::move(fn); }
  // Each stats interval's snapshot (besides the status line).
  void set_stats_listener(std::function<void(const stats::Snapshot&)> fn) { on_stats_ = std::move(fn); }
  // Silence / black frames, as --mute-audio/--mute-video at start; a change
  // is a `muted` event.
  void set_muted(media::MediaKind kind, bool muted);
  bool muted(media::MediaKind kind) const;
  // Leaves the room (the partner sees "leave"; its recording is finalized)
  // and stays out, or with `rejoin` comes back at once: a new signaling
  // connection and a fresh negotiation (a new Call: its clocks restart).
  // While out of the room, hangup(true) joins again.
  Status hangup(bool rejoin);
  Status send_chat(const std::string& text);
  // Asks the partner for a keyframe now (a PLI, through the peer's
  // keyframe requester and its rate limit).
  Status request_keyframe();
  // Changes what is sent, mid-call (the control socket's `set`): the video
  // size ("480p", as --video), frame rate (as --fps), video bitrate in
  // kbit/s (0: the size's default; an explicit one stays across a size
  // change, as with --video-bitrate) and the audio preset's bitrate (the
  // capture format stays what the call started with). Checked with the
  // command line's parsers; nothing changes when a value is bad.
  struct SendChange {
    std::optional<std::string> video;
    std::optional<int> fps;
    std::optional<int> video_kbps;
    std::optional<std::string> audio;
  };
  Status set_send(const SendChange& change);
  // Switches a sent kind to another source mid-call (the control socket's
  // `source`): `spec` as --video-source / --audio-source take it.
  Status set_source(media::MediaKind kind, const std::string& spec);
  // Writes the last remote frame to `path` ("" = the --snapshot path).
  // Returns the path written.
  Result<std::string> snapshot_now(const std::string& path);
  SessionStatus status() const;
  // The call-quality data (nullptr before create() succeeded).
  const stats::StatsCollector* stats() const { return stats_.get(); }
  // PNG files written (--snapshot, --snapshot-every).
  const std::vector<std::string>& snapshots() const { return snapshots_; }
  // Outputs that failed during the call, in order.
  const std::vector<media::OutputFailure>& output_failures() const { return output_failures_; }
  // Set when the connect budget ran out (exit call-failed).
  const std::optional<ConnectFailure>& connect_failure() const { return connect_failure_; }

 private:
  class MediaPeer;
  explicit CallSession(SessionOptions options, Done done);

  // SignalingClient::Listener
  void on_logged_in() override;
  void on_connected(bool reconnected) override;
  void on_message(const signaling::ServerMessage& message) override;
  void on_disconnected(const std::string& reason) override;
  void on_fatal(const Error& error) override;
  void on_stopped() override;
  // MediaEngine::Listener
  void on_engine_error(const Error& e) override;
  void on_source_eos(media::MediaKind kind) override;
  void on_device(media::MediaKind kind, bool lost, const std::string& device, const std::string& why) override;
  void on_peer_retired(const media::PeerConnection& pc) override;
  void on_output_failed(int peer_id, const media::OutputFailure& f) override;
  // CallObserver
  void on_call_event(CallEvent e, int visit) override;
  void on_call_finished(ExitCode code, const std::string& reason) override;
  // CallSignaling
  bool send_join() override;
  bool send_description(const SessionDescription& d) override;
  bool send_candidate(const IceCandidate& c) override;
  // PeerFactory
  Result<std::unique_ptr<Peer>> create_peer(int visit, PeerEvents& events) override;

  // StatsCollector::Source
  GstElement* stats_webrtcbin() override;
  int stats_peer_id() override;
  stats::ProbeFacts take_probe_facts() override;
  std::string stats_call_state() override;

  // A partner's peer connection is being removed (by the engine, when the
  // Call dropped its Peer or the engine stops): count what it received and
  // keep its last frame.
  void retire_peer(const media::PeerConnection& pc);
  void mark(const std::string& event);
  void write_snapshot(const std::string& path);
  void on_first_connection();
  void log_progress();
  void complete();
  void note_output_failure(const media::OutputFailure& f);
  Status write_png_now(const std::string& path);
  void emit(std::string name, std::vector<std::pair<std::string, SessionEvent::Value>> fields = {});
  void left_room();
  std::string call_state_name() const;
  Status join_room();
  // The slate on the display (--display) while no partner's video is
  // shown, saying why; gone once the partner's first frame is decoded.
  void update_slate();  // posts apply_slate() (once per iteration)
  void apply_slate();
  std::string slate_headline() const;

  SessionOptions options_;
  Done done_;
  std::unique_ptr<media::MediaEngine> engine_;
  std::unique_ptr<signaling::SignalingClient> signaling_;
  std::unique_ptr<Call> call_;
  Lifetime lifetime_ = make_lifetime();

  SessionTotals totals_;  // of retired peers
  // The current partner's peer connection: the engine's (borrowed), from
  // create_peer until its retirement.
  media::PeerConnection* current_ = nullptr;

  enum class Phase { Created, Running, StoppingMedia, StoppingSignaling, Done };
  Phase phase_ = Phase::Created;
  ExitCode code_ = ExitCode::Ok;
  std::string reason_;
  Timeout progress_timer_;
  Timeout signaling_stop_timer_;

  std::unique_ptr<stats::StatsCollector> stats_;
  std::unique_ptr<stats::StatusLine> status_;
  std::vector<std::string> snapshots_;
  GUnique<GstSample> last_sample_;  // of a retired peer
  Timeout snapshot_timer_;
  int snapshot_seq_ = 0;
  bool connected_once_ = false;
  bool ws_opened_ = false;
  uint64_t reconnects_ = 0;
  Timeout freeze_timer_;
  std::vector<media::OutputFailure> output_failures_;
  std::optional<ConnectFailure> connect_failure_;

  // Control.
  std::function<void(const SessionEvent&)> on_event_;
  std::function<void(const stats::Snapshot&)> on_stats_;
  std::string partner_;          // the partner's user id, from the server's join/leave frames
  bool peer_connected_ = false;  // the current peer reached "connected" (for `disconnected`)
  enum class Membership { In, Leaving, Out };
  Membership membership_ = Membership::In;
  bool rejoin_after_leave_ = false;
  Timeout leave_timer_;

  // The display's slate (media/slate.h).
  std::unique_ptr<media::Slate> slate_;
  bool slate_failed_ = false;     // the display cannot show one: not tried again
  bool partner_video_ = false;    // the current peer's video is on the display
  bool signaling_lost_ = false;   // between a lost connection and the next one
  bool slate_update_posted_ = false;
};

}  // namespace callagent::call
