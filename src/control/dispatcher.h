#pragma once
// Dispatcher: the one place a control request is carried out, whoever sent
// it (a socket client, a --script step, `callagent ctl`). It checks the
// request (command.h), calls the target and makes the reply line.
//
// The target is an interface so the dispatcher is unit-tested with a fake;
// SessionTarget (session_target.h) is the real one, over CallSession.
// Subscriptions belong to the client that asked: the socket passes its
// client's Subscription, a script passes none (subscribe is then refused).
//
// Pure apart from the target: no I/O, no lock; everything on the caller's
// (main) thread.

#include "common/result.h"
#include "control/command.h"
#include "control/request.h"

#include <set>
#include <string>

namespace callagent::control {

class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  virtual void set_muted(bool audio, bool video, bool muted) = 0;  // the tracks named
  virtual bool audio_muted() const = 0;
  virtual bool video_muted() const = 0;
  // The members of the `status` reply.
  virtual GUnique<JsonObject> status() = 0;
  // The last stats snapshot as a JSON object (an error before the first).
  virtual Result<JsonNodePtr> stats() = 0;
  virtual Status hangup(bool rejoin) = 0;
  virtual Status quit() = 0;
  virtual Status chat(const std::string& text) = 0;
  virtual Status keyframe() = 0;
  virtual Result<std::string> snapshot(const std::string& path) = 0;
  // `set`: the changes named in cmd (video, fps, bitrate_kbps, audio);
  // the reply's members (what is sent now), or why not.
  virtual Result<GUnique<JsonObject>> set_media(const Command& cmd) = 0;
  // `source`: cmd.video_source / cmd.audio_source; the reply's members.
  virtual Result<GUnique<JsonObject>> set_source(const Command& cmd) = 0;
};

// Which events one client receives.
class Subscription {
 public:
  bool wants(std::string_view event) const { return all_ || names_.count(std::string(event)) > 0; }
  bool empty() const { return !all_ && names_.empty(); }
  void subscribe(const std::vector<std::string>& names);    // [] = all
  void unsubscribe(const std::vector<std::string>& names);  // [] = all
  std::vector<std::string> names() const;                    // ["all"] or the names

 private:
  bool all_ = false;
  std::set<std::string> names_;
  std::set<std::string> except_;  // unsubscribed from "all"
};

class Dispatcher {
 public:
  explicit Dispatcher(ControlTarget& target) : target_(target) {}

  struct Outcome {
    std::string line;  // the reply line (no '\n')
    bool ok = false;
  };
  // `sub`: the asking client's subscriptions (nullptr: not a socket client).
  Outcome dispatch(const Request& request, Subscription* sub);
  // A checked command (a --script step).
  Outcome execute(const Command& cmd, const JsonNode* id, Subscription* sub);

 private:
  ControlTarget& target_;
};

}  // namespace callagent::control
