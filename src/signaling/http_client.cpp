#include "signaling/http_client.h"

#include "common/logging.h"
#include "signaling/error_mapping.h"
#include "signaling/room_url.h"

#include <json-glib/json-glib.h>

namespace callagent::signaling {

namespace {

std::shared_ptr<spdlog::logger> log() { return logging::get("auth"); }

// Under --insecure: accept whatever the server shows, but say so each time a
// connection is made, with what is wrong with the certificate.
gboolean accept_any_certificate(SoupMessage* msg, GTlsCertificate*, GTlsCertificateFlags errors,
                                gpointer) {
  GUri* uri = soup_message_get_uri(msg);
  log()->warn("--insecure: accepting the unverified TLS certificate of {} ({})",
              uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "?",
              errors ? describe_tls_errors(errors) : std::string("no problems found"));
  return TRUE;
}

std::string json_login_body(const std::string& user, const std::string& password) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "username");
  json_builder_add_string_value(b, user.c_str());
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, password.c_str());
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  GCharPtr text(json_to_string(root, FALSE));
  return text.get();
}

// The token in {"success":true,"token":"..."}, or nullopt.
std::optional<std::string> token_from_login_json(const std::string& body) {
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, body.data(), static_cast<gssize>(body.size()), nullptr))
    return std::nullopt;
  JsonNode* root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return std::nullopt;
  JsonObject* o = json_node_get_object(root);
  JsonNode* t = json_object_get_member(o, "token");
  if (!t || !JSON_NODE_HOLDS_VALUE(t) || json_node_get_value_type(t) != G_TYPE_STRING)
    return std::nullopt;
  const char* s = json_node_get_string(t);
  if (!s || !*s) return std::nullopt;
  return std::string(s);
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

}  // namespace

bool is_unauthorized(const HttpResponse& r) {
  if (r.status == 401) return true;
  return r.status >= 300 && r.status < 400 && r.location.find("/login") != std::string::npos;
}

struct HttpClient::Pending {
  std::weak_ptr<void> alive;
  HttpClient* self = nullptr;
  GRef<SoupMessage> msg;
  SignalConnection tls_guard;
  GRef<GCancellable> cancellable;
  Timeout deadline;
  bool timed_out = false;
  std::string what;
  std::string url;
  std::function<void(HttpResponse)> done;
};

HttpClient::HttpClient(HttpOptions options, Credentials credentials)
    : options_(std::move(options)), credentials_(std::move(credentials)) {
  if (credentials_.token) token_ = credentials_.token;
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(HttpOptions options, Credentials credentials) {
  auto base = normalize_server_url(options.base_url);
  if (!base) return base.error();
  options.base_url = *base;

  std::unique_ptr<HttpClient> c(new HttpClient(std::move(options), std::move(credentials)));
  c->session_ = GRef<SoupSession>::adopt(soup_session_new_with_options("user-agent", "callagent", nullptr));
  // The server sets auth_token as a cookie; keep it like a browser does.
  GRef<SoupCookieJar> jar = GRef<SoupCookieJar>::adopt(soup_cookie_jar_new());
  soup_session_add_feature(c->session_.get(), SOUP_SESSION_FEATURE(jar.get()));

  if (c->options_.insecure) {
    log()->warn(
        "TLS certificate verification is off (--insecure): anyone on the network path can "
        "impersonate the server and read the password");
    if (!c->options_.ca_file.empty()) log()->warn("--ca-file is ignored because --insecure is given");
  } else if (!c->options_.ca_file.empty()) {
    GError* raw = nullptr;
    // GTlsFileDatabase wants an absolute path (it is also the anchor's identity).
    GCharPtr path(g_canonicalize_filename(c->options_.ca_file.c_str(), nullptr));
    GRef<GTlsDatabase> db = GRef<GTlsDatabase>::adopt(g_tls_file_database_new(path.get(), &raw));
    GErrorPtr err(raw);
    if (!db) {
      return Error{ExitCode::Config, "cannot use --ca-file '" + c->options_.ca_file + "': " +
                                         (err ? err->message : "unknown error") +
                                         " (it must hold PEM certificates)"};
    }
    soup_session_set_tls_database(c->session_.get(), db.get());
    log()->debug("trusting only the CA certificates in {}", c->options_.ca_file);
  }
  return c;
}

HttpClient::~HttpClient() {
  // The callbacks still run (with G_IO_ERROR_CANCELLED); they free their
  // Pending and, seeing the lifetime token gone, touch nothing else.
  for (Pending* p : pending_) {
    p->deadline.cancel();
    g_cancellable_cancel(p->cancellable.get());
  }
}

void HttpClient::forget_token() {
  if (token_) log()->info("the server no longer accepts our session token; forgetting it");
  token_.reset();
}

GRef<SoupMessage> HttpClient::new_message(const char* method, const std::string& url,
                                          SignalConnection& tls_guard) const {
  GRef<SoupMessage> msg = GRef<SoupMessage>::adopt(soup_message_new(method, url.c_str()));
  if (!msg) return msg;
  SoupMessageHeaders* h = soup_message_get_request_headers(msg.get());
  if (token_) soup_message_headers_replace(h, "Authorization", ("Bearer " + *token_).c_str());
  // Never text/html: the server would answer 303 to /login instead of 401.
  soup_message_headers_replace(h, "Accept", "application/json, text/plain, */*");
  // A same-site request, so that the SameSite=Lax auth cookie is sent too.
  soup_message_set_site_for_cookies(msg.get(), soup_message_get_uri(msg.get()));
  soup_message_set_first_party(msg.get(), soup_message_get_uri(msg.get()));
  if (options_.insecure) {
    tls_guard = SignalConnection(msg.get(), "accept-certificate", G_CALLBACK(accept_any_certificate),
                                 nullptr);
  }
  return msg;
}

void HttpClient::send(GRef<SoupMessage> msg, SignalConnection tls_guard, std::string what,
                      std::function<void(HttpResponse)> done) {
  if (!msg) {
    // Only an unusable URL gets here; answer like any other failure, asynchronously.
    HttpResponse r;
    r.transport = Error{ExitCode::Usage, what + ": cannot make a request to " + options_.base_url};
    post(g_main_context_get_thread_default(), alive_,
         [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    return;
  }
  auto* p = new Pending;
  p->alive = alive_;
  p->self = this;
  p->msg = std::move(msg);
  p->tls_guard = std::move(tls_guard);
  p->cancellable = GRef<GCancellable>::adopt(g_cancellable_new());
  p->what = std::move(what);
  GCharPtr url(g_uri_to_string(soup_message_get_uri(p->msg.get())));
  p->url = url.get();
  p->done = std::move(done);
  soup_message_add_flags(p->msg.get(), SOUP_MESSAGE_NO_REDIRECT);
  p->deadline.start_once(options_.timeout, [p] {
    p->timed_out = true;
    g_cancellable_cancel(p->cancellable.get());
  });
  pending_.insert(p);
  log()->debug("{}: {} {}", p->what, soup_message_get_method(p->msg.get()), p->url);
  soup_session_send_and_read_async(session_.get(), p->msg.get(), G_PRIORITY_DEFAULT,
                                   p->cancellable.get(), &HttpClient::on_send_done, p);
}

void HttpClient::on_send_done(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  GError* raw = nullptr;
  GUnique<GBytes> body(soup_session_send_and_read_finish(SOUP_SESSION(source), res, &raw));
  GErrorPtr err(raw);
  p->deadline.cancel();
  auto alive = p->alive.lock();
  if (!alive) return;  // the client is gone: nobody to tell
  HttpClient* self = p->self;
  self->pending_.erase(p.get());

  HttpResponse r;
  if (err) {
    if (p->timed_out) {
      r.transport = Error{ExitCode::Unavailable,
                          p->what + ": no answer from " + p->url + " within " +
                              std::to_string(self->options_.timeout.count()) +
                              " s: check the network, a firewall, or the server"};
    } else {
      r.transport = transport_error(err.get(), p->url,
                                    soup_message_get_tls_peer_certificate_errors(p->msg.get()));
    }
    log()->debug("{}: failed: {} ({})", p->what, err->message, r.transport->message);
  } else {
    r.status = soup_message_get_status(p->msg.get());
    const char* reason = soup_message_get_reason_phrase(p->msg.get());
    r.reason = reason ? reason : "";
    if (body) {
      gsize n = 0;
      const char* d = static_cast<const char*>(g_bytes_get_data(body.get(), &n));
      r.body.assign(d ? d : "", n);
    }
    if (const char* loc = soup_message_headers_get_one(
            soup_message_get_response_headers(p->msg.get()), "Location"))
      r.location = loc;
    GSList* cookies = soup_cookies_from_response(p->msg.get());
    for (GSList* l = cookies; l; l = l->next) {
      auto* c = static_cast<SoupCookie*>(l->data);
      if (g_strcmp0(soup_cookie_get_name(c), "auth_token") == 0 && soup_cookie_get_value(c) &&
          *soup_cookie_get_value(c))
        r.auth_cookie = soup_cookie_get_value(c);
    }
    g_slist_free_full(cookies, reinterpret_cast<GDestroyNotify>(soup_cookie_free));
    log()->debug("{}: HTTP {} {}", p->what, r.status, r.reason);
  }
  auto done = std::move(p->done);
  p.reset();  // drop the message before calling out: the callback may destroy us
  done(std::move(r));
}

void HttpClient::login(StatusCallback done) {
  if (!credentials_.password) {
    post(g_main_context_get_thread_default(), alive_, [done = std::move(done)] {
      done(Error{ExitCode::Usage,
                 "cannot log in: no password given (use --password-file FILE or CALLAGENT_PASSWORD)"});
    });
    return;
  }
  SignalConnection guard;
  const std::string url = endpoint_url(options_.base_url, "login");
  GRef<SoupMessage> msg = new_message("POST", url, guard);
  if (msg) {
    // No stale Bearer on the login itself.
    soup_message_headers_remove(soup_message_get_request_headers(msg.get()), "Authorization");
    std::string body = json_login_body(credentials_.user, *credentials_.password);
    GUnique<GBytes> bytes(g_bytes_new(body.data(), body.size()));
    soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());
  }
  log()->info("logging in to {} as '{}'", options_.base_url, credentials_.user);

  send(std::move(msg), std::move(guard), "login",
       [this, done = std::move(done), url](HttpResponse r) {
         if (r.transport) return done(*r.transport);
         if (r.status == 401 || r.status == 403) {
           return done(Error{ExitCode::NoPerm, "login as '" + credentials_.user + "' at " +
                                                   options_.base_url +
                                                   " was refused (invalid credentials): check --user "
                                                   "and the password (--password-file or "
                                                   "CALLAGENT_PASSWORD)"});
         }
         if (r.status != 200) return done(http_status_error(r.status, r.reason, "logging in", url));
         auto token = token_from_login_json(r.body);
         if (!token) token = r.auth_cookie;
         if (!token) {
           return done(Error{ExitCode::Protocol,
                             "the login answer from " + options_.base_url +
                                 " carries no token (neither in JSON nor as the auth_token "
                                 "cookie): is it a messenger server?"});
         }
         token_ = std::move(token);
         log()->info("logged in as '{}' (session {})", credentials_.user, logging::redact(*token_));
         done(Ok{});
       });
}

void HttpClient::ensure_logged_in(StatusCallback done) {
  if (token_) {
    // Always asynchronous, like every other completion.
    post(g_main_context_get_thread_default(), alive_, [done = std::move(done)] { done(Ok{}); });
    return;
  }
  login(std::move(done));
}

void HttpClient::create_room(UrlCallback done) {
  ensure_logged_in([this, done = std::move(done)](Status s) mutable {
    if (!s) return done(s.error());
    create_room_attempt(false, std::move(done));
  });
}

void HttpClient::create_room_attempt(bool relogged, UrlCallback done) {
  SignalConnection guard;
  const std::string url = endpoint_url(options_.base_url, "create");
  GRef<SoupMessage> msg = new_message("GET", url, guard);
  send(std::move(msg), std::move(guard), "create room",
       [this, relogged, url, done = std::move(done)](HttpResponse r) mutable {
         if (r.transport) return done(*r.transport);
         if (is_unauthorized(r)) {
           if (!relogged && can_login()) {
             forget_token();
             login([this, done = std::move(done)](Status s) mutable {
               if (!s) return done(s.error());
               create_room_attempt(true, std::move(done));
             });
             return;
           }
           return done(Error{ExitCode::NoPerm,
                             can_login()
                                 ? "the server refused to create a room right after a fresh login "
                                   "(HTTP " + std::to_string(r.status) +
                                       "): check the account's rights on the server"
                                 : "the server rejected the session token (HTTP " +
                                       std::to_string(r.status) +
                                       "; it expired or the server restarted): give a password "
                                       "(--password-file or CALLAGENT_PASSWORD) so callagent can "
                                       "log in"});
         }
         if (r.status >= 300 && r.status < 400) {
           return done(Error{ExitCode::Protocol, "the server redirects " + url + " to '" + r.location +
                                                     "': use that server address with --server"});
         }
         if (r.status != 200) return done(http_status_error(r.status, r.reason, "creating a room", url));
         std::string room_url = trim(r.body);
         if (auto nl = room_url.find('\n'); nl != std::string::npos) room_url = trim(room_url.substr(0, nl));
         auto target = parse_room_target(room_url, "");
         if (!target) {
           return done(Error{ExitCode::Protocol, "the server answered /create with '" +
                                                     room_url.substr(0, 200) +
                                                     "', which is not a room URL"});
         }
         log()->info("created room {}", target->room_id);
         done(std::move(room_url));
       });
}

}  // namespace callagent::signaling
