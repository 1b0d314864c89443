#pragma once
// HttpClient: the HTTP side of the messenger server (docs/protocol.md, "HTTP"):
// POST /login and GET /create, and the SoupSession that the WebSocket client
// shares (same cookie jar, same TLS policy, same credentials).
//
// Everything is asynchronous on the thread-default main context that was
// current when the client was made; completion callbacks run there, never
// inline. Destroying the client cancels requests in flight and their
// callbacks are then never called.
//
// Authentication: a token from --token is used as is; otherwise login()
// gets one (from the JSON answer, or the auth_token cookie). Each request
// carries it as "Authorization: Bearer" and the cookie jar adds the cookie.
// A 401 on a later request triggers one fresh login when a password is
// known, then the request is retried once; a second 401 is NoPerm.
//
// TLS: certificates are verified against the system store, or only against
// --ca-file when given; --insecure accepts any certificate (logged loudly).
// Failures map to exit codes through error_mapping.h.
//
// Secrets: the password is never logged, the token only as a short prefix.

#include "common/gref.h"
#include "common/main_context.h"
#include "common/result.h"
#include "common/signal_connection.h"

#include <libsoup/soup.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace callagent::signaling {

// Who we are. At least one of password/token is needed to get anywhere.
struct Credentials {
  std::string user;
  std::optional<std::string> password;
  std::optional<std::string> token;
};

struct HttpOptions {
  std::string base_url;  // normalized (room_url.h), no trailing slash
  std::string ca_file;   // PEM file; replaces the system trust store when set
  bool insecure = false;
  // Whole-request limit (connect, TLS, answer). libsoup's own socket timeout
  // is left off because it would also cut idle WebSocket connections.
  std::chrono::seconds timeout{20};
};

// The outcome of one HTTP exchange, before interpretation.
struct HttpResponse {
  unsigned status = 0;         // 0 when the request failed below HTTP
  std::string reason;
  std::string body;
  std::optional<Error> transport;  // set when status == 0
  std::optional<std::string> auth_cookie;  // auth_token from Set-Cookie, if any
  std::string location;                    // Location header of a redirect
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> create(HttpOptions options, Credentials credentials);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  using StatusCallback = std::function<void(Status)>;
  using UrlCallback = std::function<void(Result<std::string>)>;

  // POST /login with the password; on success the token is kept for later
  // requests. NoPerm on bad credentials, Usage when there is no password.
  void login(StatusCallback done);
  // login() unless a token is already known.
  void ensure_logged_in(StatusCallback done);
  // GET /create: the new room's URL (one line, as the server printed it).
  void create_room(UrlCallback done);

  bool has_token() const { return token_.has_value(); }
  bool can_login() const { return credentials_.password.has_value(); }
  // Drops the token (the server no longer knows it). The next ensure_logged_in() logs in.
  void forget_token();
  const std::string& user() const { return credentials_.user; }
  const std::string& base_url() const { return options_.base_url; }
  std::chrono::seconds timeout() const { return options_.timeout; }

  // For the WebSocket client: the shared session, and a message to `url`
  // that carries our credentials and TLS policy. `tls_guard` receives the
  // handler that accepts any certificate under --insecure; keep it as long
  // as the message.
  SoupSession* session() const { return session_.get(); }
  GRef<SoupMessage> new_message(const char* method, const std::string& url,
                                SignalConnection& tls_guard) const;

  // Sends `msg` and reads the whole answer (redirects are not followed, so
  // a 303 to /login is seen as such). `what` names the request in logs.
  void send(GRef<SoupMessage> msg, SignalConnection tls_guard, std::string what,
            std::function<void(HttpResponse)> done);

 private:
  struct Pending;
  HttpClient(HttpOptions options, Credentials credentials);
  void create_room_attempt(bool relogged, UrlCallback done);
  static void on_send_done(GObject* source, GAsyncResult* res, gpointer data);

  HttpOptions options_;
  Credentials credentials_;
  std::optional<std::string> token_;
  GRef<SoupSession> session_;
  std::set<Pending*> pending_;  // in flight; cancelled by the destructor
  Lifetime alive_ = make_lifetime();
};

// True when an answer means "not logged in": 401, or a redirect to /login
// (what the server does for requests that accept text/html).
bool is_unauthorized(const HttpResponse& r);

}  // namespace callagent::signaling
