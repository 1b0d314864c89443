#pragma once
// ControlServer: the Unix socket of `join --control PATH`. It accepts any
// number of clients, reads their request lines, hands each to the
// Dispatcher and queues the reply; events go to the clients that
// subscribed to them (publish()).
//
// On the main context only (GSocketService and async GIO streams: no
// thread, no lock, so no call-out under a lock). Bad input never stalls
// the agent: a line that is not a valid request gets an error reply; a
// line over 64 KiB gets an error reply and the client is dropped once it
// was sent; a client whose queue of unsent replies and events grows over
// `max_queue_bytes` (it does not read) is dropped at once.
//
// The socket file: created with `mode` (0600 by default; the umask is
// narrowed around bind, so the file is never wider, then chmod'ed exactly). A
// PATH that exists is refused (CantCreate) unless it is a stale socket (no
// one accepts on it), which is replaced. The file is removed when the
// server is destroyed, if it is still ours (same inode).
//
// Ownership: the owner holds the server and lends the Dispatcher, which
// must outlive it. Clients are owned by the server; their pending GIO
// callbacks hold a reference, so a callback never reaches a freed client.

#include "common/gref.h"
#include "common/result.h"
#include "control/dispatcher.h"

#include <gio/gio.h>

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace callagent::control {

class ControlServer {
 public:
  struct Options {
    std::string path;
    unsigned mode = 0600;
    size_t max_queue_bytes = 256 * 1024;
  };

  // Binds and listens (CantCreate when PATH cannot be used).
  static Result<std::unique_ptr<ControlServer>> create(Options options, Dispatcher& dispatcher);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Queues `line` (an event line, no '\n') for every client subscribed to `event`.
  void publish(std::string_view event, const std::string& line);
  size_t client_count() const { return clients_.size(); }
  const std::string& path() const { return options_.path; }

  struct Client;  // one connection (control_server.cpp)

 private:
  ControlServer(Options options, Dispatcher& dispatcher);
  Status listen();
  static gboolean on_incoming(GSocketService*, GSocketConnection*, GObject*, gpointer);
  void remove(Client* c);

  Options options_;
  Dispatcher& dispatcher_;
  GRef<GSocketService> service_;
  std::vector<std::shared_ptr<Client>> clients_;
  int next_id_ = 1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool bound_ = false;
};

}  // namespace callagent::control
