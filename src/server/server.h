#pragma once
// `callagent serve`: the messenger's signaling server (docs/protocol.md) on
// libsoup 3.
//
// Owns the SoupServer, the room database (RoomStore), the sessions
// (SessionStore), the login rate limiter, the live rooms (RoomHub) and every
// WebSocket connection (WsConnection). Everything runs on the thread-default
// main context; the caller runs the loop.
//
// Routes (auth = cookie auth_token or Authorization: Bearer):
//   POST /login        JSON credentials -> token + cookie     (no auth, rate-limited)
//   GET  /login        login form                             (no auth)
//   GET  /logout       drop session, clear cookie, 303 /login (no auth needed)
//   GET  /create       new room URL, text/plain               (auth)
//   GET  /, /room/<id> HTML from WebPages                     (auth)
//   GET  /ws?room=<id> WebSocket                              (auth before upgrade)
// Unauthenticated: 401 "Unauthorized", or 303 /login when Accept has text/html.
//
// States:  Created ──start()──> Running ──stop()──> Stopping ──(all closed
//          or grace over)──> Stopped

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "common/signal_connection.h"
#include "server/account.h"
#include "server/fd_poller.h"
#include "server/rate_limiter.h"
#include "server/room_hub.h"
#include "server/room_store.h"
#include "server/session_store.h"
#include "server/web_pages.h"
#include "server/ws_connection.h"

#include <libsoup/soup.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

namespace callagent::server {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string db_path;                     // empty: RoomStore::default_path()
  std::string user = "admin";
  std::string password;                    // required, never logged
  std::string tls_cert;                    // PEM files; both or neither
  std::string tls_key;
  std::size_t max_rooms = 100000;
  std::size_t max_connections = 1000;      // WebSocket connections at once (also capped
                                           // by the open-files limit, see open_files.h)
  std::size_t max_sessions = 10000;
  unsigned login_failures_per_minute = 10;
  std::chrono::seconds keepalive{30};      // ping period; silent for 3x -> dropped
  std::chrono::seconds session_ttl{86400};
  std::size_t max_body_bytes = 16 * 1024;  // request bodies (only /login has one)
};

// What the server counted since it started (`serve --metrics`,
// server/server_metrics.h). Plain counters, read on the main context.
struct ServerCounters {
  uint64_t logins = 0;               // POST /login that opened a session
  uint64_t logins_rejected = 0;      // ... refused: wrong user or password
  uint64_t logins_rate_limited = 0;  // ... refused: too many failures from that address (429)
  uint64_t websockets_accepted = 0;  // WebSockets that joined a room
  uint64_t websockets_refused = 0;   // WebSockets refused after the upgrade (room missing/unknown/full)
  std::map<unsigned, uint64_t> http_responses;  // every finished request, by status code
};

class Server {
 public:
  enum class State { Created, Running, Stopping, Stopped };

  // Opens the database and loads the TLS certificate; does not listen yet.
  static Result<std::unique_ptr<Server>> create(ServerConfig config,
                                                std::unique_ptr<WebPages> pages = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens and returns the base URL, e.g. "http://127.0.0.1:34567".
  Result<std::string> start();
  // Stops listening, closes every WebSocket (1001 Going Away) and calls
  // `done` once all are closed or after a short grace period.
  void stop(std::function<void()> done);

  State state() const { return state_; }
  std::size_t connection_count() const { return connections_.size(); }
  const ServerCounters& counters() const { return counters_; }
  const RoomHub& hub() const { return hub_; }
  // Rooms in the database.
  std::size_t room_count() const;

 private:
  Server(ServerConfig config, std::unique_ptr<RoomStore> rooms, std::unique_ptr<WebPages> pages);

  static void on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query,
                         gpointer self);
  static void on_early_request(SoupServer*, SoupServerMessage* msg, const char* path,
                               GHashTable* query, gpointer self);
  static void on_ws_request(SoupServer*, SoupServerMessage* msg, const char* path,
                            GHashTable* query, gpointer self);
  static void on_ws_upgraded(SoupServerMessage* msg, gpointer self);
  static void on_request_finished(SoupServer*, SoupServerMessage* msg, gpointer self);

  void handle(SoupServerMessage* msg, const std::string& path);
  void handle_login(SoupServerMessage* msg);
  void handle_logout(SoupServerMessage* msg);
  void handle_create(SoupServerMessage* msg);
  void accept_websocket(SoupServerMessage* msg);

  bool body_refused(SoupServerMessage* msg, std::string_view path);
  bool authenticated(SoupServerMessage* msg);
  void respond_unauthorized(SoupServerMessage* msg, bool allow_redirect);
  bool is_secure(SoupServerMessage* msg) const;

  void finish_stop();
  void on_ws_closed(WsConnection& c);
  void sweep_silent_connections();
  void set_state(State next);

  ServerConfig config_;
  Account account_;
  std::unique_ptr<RoomStore> rooms_;
  std::unique_ptr<WebPages> pages_;
  SessionStore sessions_;
  RateLimiter login_limiter_;
  RoomHub hub_;
  GRef<SoupServer> soup_;
  GRef<GTlsCertificate> tls_cert_;
  SignalConnection finished_sig_;
  // Every WebSocket's descriptor, behind one main-loop source (fd_poller.h).
  // Declared before connections_: it outlives them.
  FdPoller poller_;
  std::unordered_map<WsConnection*, std::unique_ptr<WsConnection>> connections_;
  // config_.max_connections, or fewer when the open-files limit is lower.
  std::size_t max_connections_ = 0;
  Timeout sweep_timer_;
  Timeout stop_timer_;
  std::function<void()> stop_done_;
  State state_ = State::Created;
  ServerCounters counters_;
  Lifetime lifetime_ = make_lifetime();
};

const char* to_string(Server::State s);

}  // namespace callagent::server
