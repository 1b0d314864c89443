#pragma once
// ControlHub: control of one running `callagent join`, from the outside.
// It owns the pieces and wires them to the CallSession:
//
//   ControlServer (--control PATH) ─┐
//   ScriptRunner  (--script FILE)  ─┼─> Dispatcher ──> SessionTarget ──> CallSession's public control API
//   ctl (through the socket)       ─┘
//   CallSession's events and stats ──> event lines ──> subscribed socket clients, --events FILE|-
//
// Created before anything connects (the socket can be refused: 73), attached
// to the session once it exists, detached before the session is destroyed.
// All on the main context. Owns everything it holds; borrows the session
// between attach() and detach().

#include "common/main_context.h"
#include "common/result.h"
#include "control/dispatcher.h"
#include "control/script.h"

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace callagent::call {
class CallSession;
}

namespace callagent::control {

class ControlServer;

class ControlHub {
 public:
  struct Options {
    std::string socket_path;  // "" = no socket
    unsigned socket_mode = 0600;
    std::string events_path;  // "" = none, "-" = stdout
    std::vector<ScriptStep> script;
  };

  // Opens the socket and the events file (CantCreate). `quit` ends the
  // run as SIGTERM does.
  static Result<std::unique_ptr<ControlHub>> create(Options options, std::function<void()> quit);
  ~ControlHub();
  ControlHub(const ControlHub&) = delete;
  ControlHub& operator=(const ControlHub&) = delete;

  void attach(call::CallSession& session);
  void detach();

  // Sends an event to the subscribers and the events file.
  void publish(const std::string& name, JsonObject* fields);

 private:
  class SessionTarget;
  ControlHub(Options options, std::function<void()> quit);
  void on_connected_first();
  void run_step(size_t i);
  void schedule_step(size_t i);
  double now_s() const;

  Options options_;
  std::unique_ptr<SessionTarget> target_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<ControlServer> server_;
  FILE* events_ = nullptr;  // stdout or owned (events_owned_)
  bool events_owned_ = false;
  call::CallSession* session_ = nullptr;
  int64_t t0_us_ = 0;
  int64_t script_t0_us_ = 0;
  bool script_started_ = false;
  Timeout step_timer_;
  Lifetime lifetime_ = make_lifetime();
};

}  // namespace callagent::control
