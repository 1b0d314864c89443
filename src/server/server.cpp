#include "server/server.h"

#include "common/logging.h"
#include "server/builtin_pages.h"
#include "server/http_rules.h"
#include "server/http_message.h"
#include "server/listen_socket.h"
#include "server/open_files.h"
#include "signaling/protocol.h"

#include <algorithm>

namespace callagent::server {

namespace {

std::shared_ptr<spdlog::logger> log() { return logging::get("server"); }

// After stop(), how long WebSocket peers get to answer the close frame.
constexpr std::chrono::milliseconds kStopGrace{1500};

// Marks a request whose body went over the limit; the body is not kept.
constexpr const char* kBodyTooBig = "callagent-body-too-big";
constexpr const char* kBodyLimit = "callagent-body-limit";

void refuse_body(SoupServerMessage* msg) {
  // libsoup goes on reading the body it was promised (it cannot skip it
  // once the headers are in), but without keeping it: memory stays bounded.
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  soup_message_body_truncate(soup_server_message_get_request_body(msg));
  g_object_set_data(G_OBJECT(msg), kBodyTooBig, GINT_TO_POINTER(1));
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
}

void on_body_chunk(SoupServerMessage* msg, GBytes*, gpointer) {
  if (g_object_get_data(G_OBJECT(msg), kBodyTooBig)) return;
  auto limit = static_cast<goffset>(GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(msg), kBodyLimit)));
  if (soup_server_message_get_request_body(msg)->length > limit) refuse_body(msg);
}

}  // namespace

const char* to_string(Server::State s) {
  switch (s) {
    case Server::State::Created: return "created";
    case Server::State::Running: return "running";
    case Server::State::Stopping: return "stopping";
    case Server::State::Stopped: return "stopped";
  }
  return "?";
}

Result<std::unique_ptr<Server>> Server::create(ServerConfig config,
                                               std::unique_ptr<WebPages> pages) {
  if (config.password.empty())
    return Error{ExitCode::Usage, "the server needs a password (--password-file or CALLAGENT_PASSWORD)"};
  if (config.tls_cert.empty() != config.tls_key.empty())
    return Error{ExitCode::Usage, "--tls-cert and --tls-key go together"};

  GRef<GTlsCertificate> cert;
  if (!config.tls_cert.empty()) {
    if (!g_tls_backend_supports_tls(g_tls_backend_get_default()))
      return Error{ExitCode::Config, "TLS is not available: install glib-networking"};
    GError* raw = nullptr;
    cert = GRef<GTlsCertificate>::adopt(
        g_tls_certificate_new_from_files(config.tls_cert.c_str(), config.tls_key.c_str(), &raw));
    GErrorPtr err(raw);
    if (!cert) {
      return Error{ExitCode::Config, "cannot load --tls-cert '" + config.tls_cert +
                                         "' / --tls-key '" + config.tls_key + "': " + err->message};
    }
  }

  if (config.db_path.empty()) config.db_path = RoomStore::default_path();
  auto rooms = RoomStore::open(config.db_path, config.max_rooms);
  if (!rooms) return rooms.error();

  if (!pages) pages = std::make_unique<BuiltinPages>();
  std::unique_ptr<Server> s(new Server(std::move(config), std::move(*rooms), std::move(pages)));
  s->tls_cert_ = std::move(cert);
  return s;
}

Server::Server(ServerConfig config, std::unique_ptr<RoomStore> rooms, std::unique_ptr<WebPages> pages)
    : config_(std::move(config)),
      account_(config_.user, config_.password),
      rooms_(std::move(rooms)),
      pages_(std::move(pages)),
      sessions_(config_.session_ttl, config_.max_sessions),
      login_limiter_(config_.login_failures_per_minute, std::chrono::minutes(1)) {
  // The Account keeps only a digest; don't keep the password around either.
  std::fill(config_.password.begin(), config_.password.end(), '\0');
  config_.password.clear();
}

Server::~Server() {
  sweep_timer_.cancel();
  stop_timer_.cancel();
  // Connections first: their close callbacks reach into the hub.
  for (auto& [ptr, conn] : connections_) hub_.leave(*conn);
  connections_.clear();
  if (soup_) {
    soup_server_disconnect(soup_.get());
    soup_server_remove_handler(soup_.get(), "/ws");
    soup_server_remove_handler(soup_.get(), nullptr);
    finished_sig_.disconnect();
  }
}

void Server::set_state(State next) {
  bool legal = (state_ == State::Created && next == State::Running) ||
               (state_ == State::Running && next == State::Stopping) ||
               (state_ == State::Stopping && next == State::Stopped) ||
               (state_ == State::Created && next == State::Stopped);
  if (!legal) {
    log()->warn("illegal server state change {} -> {}", to_string(state_), to_string(next));
    return;
  }
  state_ = next;
}

Result<std::string> Server::start() {
  if (state_ != State::Created) return Error{ExitCode::Software, "server started twice"};
  auto addr = parse_listen(config_.listen);
  if (!addr) return addr.error();

  soup_ = GRef<SoupServer>::adopt(SOUP_SERVER(
      g_object_new(SOUP_TYPE_SERVER, "tls-certificate", tls_cert_.get(), nullptr)));
  // The reference server (gorilla/websocket defaults) negotiates no
  // compression; neither do we: frames are small, and inflating untrusted
  // input is a memory risk.
  soup_server_remove_websocket_extension(soup_.get(), SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_early_handler(soup_.get(), nullptr, &Server::on_early_request, this, nullptr);
  soup_server_add_early_handler(soup_.get(), "/ws", &Server::on_early_request, this, nullptr);
  soup_server_add_handler(soup_.get(), nullptr, &Server::on_request, this, nullptr);
  soup_server_add_handler(soup_.get(), "/ws", &Server::on_ws_request, this, nullptr);
  finished_sig_ = SignalConnection(soup_.get(), "request-finished",
                                   G_CALLBACK(&Server::on_request_finished), this);

  const int backlog = somaxconn();
  auto sock = listening_socket(addr->get(), backlog);
  if (!sock) return Error{sock.error().code, "cannot listen on " + config_.listen + ": " + sock.error().message};
  GError* raw = nullptr;
  SoupServerListenOptions opts = tls_cert_ ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions(0);
  if (!soup_server_listen_socket(soup_.get(), sock->get(), opts, &raw)) {
    GErrorPtr err(raw);
    return Error{ExitCode::Unavailable, "cannot listen on " + config_.listen + ": " + err->message};
  }

  // WebSockets beyond the open-files limit would make accept() fail, and
  // libsoup 3.2 stops listening for good after a failed accept(): better
  // refuse the ones that do not fit (503) than lose the server.
  max_connections_ = config_.max_connections;
  const FileLimit files = current_open_files_limit();
  if (files.soft > 0) {
    std::size_t fit = connections_that_fit(files.soft);
    if (fit < max_connections_) {
      max_connections_ = fit;
      log()->warn(
          "the open-files limit {} leaves room for {} WebSocket connections: refusing more than {} "
          "WebSocket connections (--max-connections {}); raise the hard limit (systemd "
          "LimitNOFILE=, ulimit -Hn) to allow more",
          files.soft, fit, fit, config_.max_connections);
    }
  }
  if (static_cast<std::size_t>(backlog) < max_connections_)
    log()->info(
        "the listen queue holds {} connections (net.core.somaxconn): more clients than that "
        "connecting at the same instant will retry after 1 s",
        backlog);

  std::string url;
  GSList* uris = soup_server_get_uris(soup_.get());
  if (uris) {
    url = GCharPtr(g_uri_to_string(static_cast<GUri*>(uris->data))).get();
    while (!url.empty() && url.back() == '/') url.pop_back();
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  if (url.empty()) return Error{ExitCode::Software, "the server listens but reports no address"};

  if (config_.keepalive.count() > 0)
    sweep_timer_.start(config_.keepalive, [this] {
      sweep_silent_connections();
      return true;
    });
  set_state(State::Running);
  log()->info("listening on {} (user '{}', {} rooms in {})", url, account_.user(), rooms_->count(),
              config_.db_path);
  return url;
}

void Server::stop(std::function<void()> done) {
  if (state_ != State::Running) {
    if (state_ == State::Created) set_state(State::Stopped);
    if (done) done();
    return;
  }
  set_state(State::Stopping);
  stop_done_ = std::move(done);
  log()->info("shutting down: closing {} WebSocket connection(s)", connections_.size());
  sweep_timer_.cancel();
  soup_server_disconnect(soup_.get());  // listeners and plain HTTP clients
  std::vector<WsConnection*> open;
  for (auto& [ptr, conn] : connections_) open.push_back(ptr);
  for (WsConnection* c : open) c->close(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
  if (connections_.empty()) return finish_stop();
  stop_timer_.start_once(kStopGrace, [this] {
    log()->debug("{} connection(s) did not close in time", connections_.size());
    finish_stop();
  });
}

void Server::finish_stop() {
  if (state_ != State::Stopping) return;
  stop_timer_.cancel();
  set_state(State::Stopped);
  if (auto cb = std::move(stop_done_)) cb();
}

// ---- HTTP ------------------------------------------------------------------

bool Server::is_secure(SoupServerMessage* msg) const {
  const char* scheme = g_uri_get_scheme(soup_server_message_get_uri(msg));
  bool tls = scheme && g_ascii_strcasecmp(scheme, "https") == 0;
  return http::request_is_secure(tls, header(msg, "X-Forwarded-Proto"));
}

bool Server::authenticated(SoupServerMessage* msg) {
  for (const std::string& t : http::offered_tokens(header(msg, "Cookie"), header(msg, "Authorization")))
    if (sessions_.valid(t)) return true;
  return false;
}

void Server::respond_unauthorized(SoupServerMessage* msg, bool allow_redirect) {
  if (allow_redirect &&
      http::unauthorized_response(header(msg, "Accept")) == http::Unauthorized::RedirectToLogin) {
    redirect(msg, "/login");
    return;
  }
  respond_text(msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
}

void Server::on_early_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                              gpointer self) {
  auto* s = static_cast<Server*>(self);
  // libsoup buffers a whole request body before the handler runs. Only
  // /login has a (small) body: refuse big ones by their Content-Length, and
  // count chunked ones as they come.
  SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
  SoupEncoding enc = soup_message_headers_get_encoding(h);
  auto limit = static_cast<goffset>(s->config_.max_body_bytes);
  if (enc == SOUP_ENCODING_CONTENT_LENGTH) {
    if (soup_message_headers_get_content_length(h) > limit) {
      log()->debug("{} {}: request body of {} bytes refused", soup_server_message_get_method(msg),
                   path, soup_message_headers_get_content_length(h));
      refuse_body(msg);
    }
  } else if (enc != SOUP_ENCODING_NONE) {
    g_object_set_data(G_OBJECT(msg), kBodyLimit, GSIZE_TO_POINTER(s->config_.max_body_bytes));
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_body_chunk), nullptr);
  }
}

bool Server::body_refused(SoupServerMessage* msg, std::string_view path) {
  if (!g_object_get_data(G_OBJECT(msg), kBodyTooBig)) return false;
  if (path == "/login")
    respond_text(msg, SOUP_STATUS_BAD_REQUEST, "Invalid request");  // the reference's "unreadable body"
  else
    respond_text(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large");
  return true;
}

void Server::on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                        gpointer self) {
  static_cast<Server*>(self)->handle(msg, path ? path : "/");
}

void Server::on_request_finished(SoupServer*, SoupServerMessage* msg, gpointer self) {
  ++static_cast<Server*>(self)->counters_.http_responses[soup_server_message_get_status(msg)];
  auto l = log();
  if (!l->should_log(spdlog::level::debug)) return;
  l->debug("{} {} {} -> {}", remote_of(msg), soup_server_message_get_method(msg),
           printable(g_uri_get_path(soup_server_message_get_uri(msg)), 200),
           soup_server_message_get_status(msg));
}

void Server::handle(SoupServerMessage* msg, const std::string& path) {
  SoupMessageHeaders* response = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(response, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(response, "Cache-Control", "no-store");
  // libsoup 3.2's server never notices a client closing an idle keep-alive
  // connection: each one stays in CLOSE_WAIT and holds a descriptor for
  // good. Plain HTTP here is a few requests per call, so answer each on its
  // own connection. (WebSocket upgrades are not affected.)
  soup_message_headers_replace(response, "Connection", "close");
  if (state_ != State::Running) {
    respond_text(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Server shutting down");
    return;
  }
  if (body_refused(msg, path)) return;
  const char* method = soup_server_message_get_method(msg);

  if (path == "/login") {
    if (method == SOUP_METHOD_POST) return handle_login(msg);
    if (is_get(msg)) return respond_html(msg, pages_->login());
    return method_not_allowed(msg, "GET, POST");
  }
  if (path == "/logout") {
    if (is_get(msg) || method == SOUP_METHOD_POST) return handle_logout(msg);
    return method_not_allowed(msg, "GET");
  }
  bool is_room = path.rfind("/room/", 0) == 0;
  if (path != "/" && path != "/create" && !is_room) {
    respond_text(msg, SOUP_STATUS_NOT_FOUND, "404 page not found");
    return;
  }
  if (!is_get(msg)) return method_not_allowed(msg, "GET");
  if (!authenticated(msg)) return respond_unauthorized(msg, true);
  if (path == "/create") return handle_create(msg);
  if (is_room) return respond_html(msg, pages_->room(std::string_view(path).substr(6)));
  respond_html(msg, pages_->home());
}

void Server::handle_login(SoupServerMessage* msg) {
  const std::string remote = remote_of(msg);
  if (auto wait = login_limiter_.retry_after(remote)) {
    log()->info("login from {} refused: too many failures, retry in {} s", remote, wait->count());
    set_header(msg, "Retry-After", std::to_string(wait->count()));
    ++counters_.logins_rate_limited;
    respond_text(msg, kStatusTooManyRequests, "Too many login attempts");
    return;
  }
  GUnique<GBytes> bytes(soup_message_body_flatten(soup_server_message_get_request_body(msg)));
  gsize len = 0;
  const char* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &len));
  std::string text(data ? data : "", len);
  auto creds = http::parse_login_body(text);
  if (!creds) {
    respond_text(msg, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
    return;
  }
  if (!account_.verify(creds->username, creds->password)) {
    login_limiter_.record_failure(remote);
    ++counters_.logins_rejected;
    log()->info("login from {} failed: invalid credentials", remote);
    respond(msg, SOUP_STATUS_UNAUTHORIZED, "application/json", http::login_failure_body());
    return;
  }
  std::string token = sessions_.create();
  log()->info("login from {}: session {}", remote, logging::redact(token));
  set_header(msg, "Set-Cookie", http::session_cookie(token, sessions_.ttl(), is_secure(msg)));
  ++counters_.logins;
  respond(msg, SOUP_STATUS_OK, "application/json", http::login_success_body(token));
}

void Server::handle_logout(SoupServerMessage* msg) {
  for (const std::string& t : http::offered_tokens(header(msg, "Cookie"), header(msg, "Authorization")))
    if (sessions_.remove(t)) log()->info("logout from {}: session {}", remote_of(msg), logging::redact(t));
  set_header(msg, "Set-Cookie", http::cleared_session_cookie(is_secure(msg)));
  redirect(msg, "/login");
}

void Server::handle_create(SoupServerMessage* msg) {
  std::string host;
  if (const char* h = header(msg, "Host")) {
    host = h;
  } else {
    // HTTP/1.0 without Host: name the address the request came in on.
    GUri* u = soup_server_message_get_uri(msg);
    host = std::string(g_uri_get_host(u) ? g_uri_get_host(u) : "localhost") + ":" +
           std::to_string(g_uri_get_port(u));
  }
  if (!http::valid_host(host)) {
    respond_text(msg, SOUP_STATUS_BAD_REQUEST, "Invalid Host header");
    return;
  }
  auto id = rooms_->create();
  if (!id) {
    log()->warn("cannot create a room: {}", id.error().message);
    if (id.error().code == ExitCode::Unavailable)
      respond_text(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many rooms");
    else
      respond_text(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "Internal Server Error");
    return;
  }
  log()->info("room {} created by {}", *id, remote_of(msg));
  respond(msg, SOUP_STATUS_OK, "text/plain; charset=utf-8", http::room_url(is_secure(msg), host, *id));
}

// ---- WebSocket -------------------------------------------------------------

void Server::on_ws_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                           gpointer self) {
  auto* s = static_cast<Server*>(self);
  // Anything answered here is refused before the upgrade; with no status
  // set, libsoup checks the handshake and calls on_websocket(). A refused
  // WebSocket client will not reuse the connection, and some (Python's
  // websockets) wait for the server to close it: close it.
  auto refuse = [msg](guint status, std::string_view text) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
    respond_text(msg, status, text);
  };
  if (s->body_refused(msg, "/ws")) return;
  if (std::string_view(path ? path : "") != "/ws") return refuse(SOUP_STATUS_NOT_FOUND, "404 page not found");
  if (!s->authenticated(msg)) {
    log()->debug("{} /ws: no valid session", remote_of(msg));
    return refuse(SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
  }
  if (!http::origin_allowed(header(msg, "Origin"), header(msg, "Host"))) {
    log()->info("{} /ws: refused cross-origin request from {}", remote_of(msg),
                printable(header(msg, "Origin")));
    return refuse(SOUP_STATUS_FORBIDDEN, "Forbidden");
  }
  if (s->state_ != State::Running) return refuse(SOUP_STATUS_SERVICE_UNAVAILABLE, "Server shutting down");
  if (s->connections_.size() >= s->max_connections_) {
    log()->warn("{} /ws: refused, {} connections is the maximum", remote_of(msg),
                s->max_connections_);
    return refuse(SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many connections");
  }
  if (!s->poller_.ok()) return refuse(SOUP_STATUS_SERVICE_UNAVAILABLE, "Server error");
  // The handshake as libsoup's WebSocket handler checks it (a bad one gets
  // its 400), with no extension offered (no compression, as the reference
  // server); the connection is taken over once the 101 is written.
  if (!soup_websocket_server_process_handshake(msg, nullptr, nullptr, nullptr, nullptr)) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
    return;
  }
  g_signal_connect(msg, "wrote-informational", G_CALLBACK(&Server::on_ws_upgraded), s);
}

void Server::on_ws_upgraded(SoupServerMessage* msg, gpointer self) {
  static_cast<Server*>(self)->accept_websocket(msg);
}

void Server::accept_websocket(SoupServerMessage* msg) {
  GRef<SoupServerMessage> keep = GRef<SoupServerMessage>::ref(msg);  // stealing may free it
  const std::string remote = remote_of(msg);
  const std::string room = query_param(msg, "room");
  // The raw TCP socket: WsConnection polls it and shuts it down to drop a
  // connection without a close frame.
  GRef<GSocket> socket = GRef<GSocket>::ref(soup_server_message_get_socket(msg));
  GRef<GIOStream> stream = GRef<GIOStream>::adopt(soup_server_message_steal_connection(msg));
  if (!stream || !socket) {
    log()->warn("{}: the WebSocket's connection could not be taken over", remote);
    if (stream) g_io_stream_close(stream.get(), nullptr, nullptr);
    return;
  }

  std::weak_ptr<void> alive = lifetime_;
  WsConnection::Callbacks cb;
  cb.on_text = [this](WsConnection& c, std::string_view text) { hub_.relay(c, text); };
  cb.on_closed = [this, alive](WsConnection& c) {
    hub_.leave(c);
    // Destroyed from the main loop, not inside its own signal handler.
    WsConnection* key = &c;
    post(g_main_context_get_thread_default(), alive, [this, key] { on_ws_closed(*key); });
  };
  auto owned = std::make_unique<WsConnection>(stream.get(), socket.get(), poller_, remote,
                                              signaling::kMaxFrameBytes, std::move(cb));
  WsConnection& c = *owned;
  connections_.emplace(&c, std::move(owned));

  std::string_view refusal;
  std::optional<std::string> user;
  if (room.empty())
    refusal = signaling::kErrRoomMissing;
  else if (!rooms_->exists(room))
    refusal = signaling::kErrRoomNotFound;
  else if (!(user = hub_.join(room, c)))
    refusal = signaling::kErrRoomFull;
  if (!refusal.empty()) {
    log()->info("{}: WebSocket for room '{}' refused: {}", remote, printable(room), refusal);
    ++counters_.websockets_refused;
    c.reject(signaling::make_error_frame(refusal));
    return;
  }
  ++counters_.websockets_accepted;
  c.set_user(*user);
}

std::size_t Server::room_count() const { return rooms_->count(); }

void Server::on_ws_closed(WsConnection& c) {
  auto it = connections_.find(&c);
  if (it == connections_.end()) return;
  connections_.erase(it);
  if (state_ == State::Stopping && connections_.empty()) finish_stop();
}

void Server::sweep_silent_connections() {
  // Every keepalive period each connection gets a ping; a live peer answers
  // with a pong. Three periods of silence mean it is gone (a kiosk that
  // lost power, a NAT that forgot us) and its partner should get `leave`.
  // One timer for all connections: per-connection timers would each be a
  // main-loop source, paid for on every wake-up (fd_poller.h).
  auto limit = 3 * config_.keepalive;
  std::vector<WsConnection*> dead;
  for (auto& [ptr, conn] : connections_)
    if (conn->state() == WsConnection::State::Open && conn->silent_for() > limit) dead.push_back(ptr);
  for (WsConnection* c : dead) {
    log()->info("{} {}: silent for {} s, dropping", c->remote(), c->user(),
                std::chrono::duration_cast<std::chrono::seconds>(c->silent_for()).count());
    c->abort();
  }
  for (auto& [ptr, conn] : connections_) conn->ping();
}

}  // namespace callagent::server
