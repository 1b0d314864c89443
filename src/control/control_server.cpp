#include "control/control_server.h"

#include "common/logging.h"

#include <gio/gunixsocketaddress.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

namespace callagent::control {

namespace {
auto log() {
  static auto l = logging::get("control");
  return l;
}

// Whether something accepts connections on the socket file `path`.
bool socket_is_live(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 || errno != ECONNREFUSED;
  close(fd);
  return live;
}
}  // namespace

struct ControlServer::Client : std::enable_shared_from_this<ControlServer::Client> {
  ControlServer* server = nullptr;  // null once the server dropped it
  int id = 0;
  GRef<GSocketConnection> conn;
  GRef<GCancellable> cancel = GRef<GCancellable>::adopt(g_cancellable_new());
  std::string in;
  char buf[4096];
  std::deque<std::string> out;
  size_t out_bytes = 0;
  bool writing = false;
  bool close_when_flushed = false;
  bool closed = false;
  Subscription sub;

  GInputStream* input() { return g_io_stream_get_input_stream(G_IO_STREAM(conn.get())); }
  GOutputStream* output() { return g_io_stream_get_output_stream(G_IO_STREAM(conn.get())); }

  void read_more() {
    if (closed) return;
    g_input_stream_read_async(input(), buf, sizeof(buf), G_PRIORITY_DEFAULT, cancel.get(), &Client::on_read,
                              new std::shared_ptr<Client>(shared_from_this()));
  }

  static void on_read(GObject* src, GAsyncResult* res, gpointer data) {
    std::unique_ptr<std::shared_ptr<Client>> self(static_cast<std::shared_ptr<Client>*>(data));
    Client& c = **self;
    GError* raw = nullptr;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &raw);
    GUnique<GError> err(raw);
    if (c.closed) return;
    if (n <= 0) {
      if (err) log()->debug("control client {}: {}", c.id, err->message);
      c.drop(n == 0 ? "closed by the client" : "read error");
      return;
    }
    c.in.append(c.buf, static_cast<size_t>(n));
    c.take_lines();
    if (!c.closed && !c.close_when_flushed) c.read_more();
  }

  void take_lines() {
    size_t start = 0;
    for (;;) {
      if (closed || close_when_flushed) return;
      size_t nl = in.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(in.data() + start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      handle(line);
    }
    in.erase(0, start);
    if (in.size() > kMaxLineBytes && !closed) {
      log()->warn("control client {}: a line over {} bytes: dropped", id, kMaxLineBytes);
      send(error_line(nullptr, "line too long (over 64 KiB): closing"));
      in.clear();
      close_when_flushed = true;
      if (!writing) drop("line too long");
    }
  }

  void handle(std::string_view line) {
    if (!server) return;
    if (line.size() > kMaxLineBytes) {
      send(error_line(nullptr, "line too long (over 64 KiB): closing"));
      close_when_flushed = true;
      return;
    }
    Request r = parse_request(line);
    log()->debug("control client {}: {}", id, r.command.empty() ? std::string("(bad request)") : r.command);
    // Keep this client alive while the target acts (a quit may tear the
    // server down from a later iteration, never from here).
    auto keep = shared_from_this();
    auto outcome = server->dispatcher_.dispatch(r, &sub);
    if (!outcome.ok) log()->info("control client {}: {} refused: {}", id, r.command, outcome.line);
    send(outcome.line);
  }

  void send(const std::string& line) {
    if (closed) return;
    const size_t limit = server ? server->options_.max_queue_bytes : 0;
    if (out_bytes + line.size() + 1 > limit) {
      log()->warn("control client {}: {} bytes unread: dropped (it does not read its replies and events)", id,
                  out_bytes);
      drop("queue full");
      return;
    }
    out.push_back(line + "\n");
    out_bytes += out.back().size();
    write_next();
  }

  void write_next() {
    if (writing || closed) return;
    if (out.empty()) {
      if (close_when_flushed) drop("closed after an error");
      return;
    }
    writing = true;
    const std::string& front = out.front();
    g_output_stream_write_all_async(output(), front.data(), front.size(), G_PRIORITY_DEFAULT, cancel.get(),
                                    &Client::on_written, new std::shared_ptr<Client>(shared_from_this()));
  }

  static void on_written(GObject* src, GAsyncResult* res, gpointer data) {
    std::unique_ptr<std::shared_ptr<Client>> self(static_cast<std::shared_ptr<Client>*>(data));
    Client& c = **self;
    GError* raw = nullptr;
    const gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(src), res, nullptr, &raw);
    GUnique<GError> err(raw);
    c.writing = false;
    if (c.closed) return;
    if (!ok) {
      c.drop(err ? err->message : "write error");
      return;
    }
    c.out_bytes -= c.out.front().size();
    c.out.pop_front();
    c.write_next();
  }

  // Closes the connection and leaves the server's list (this object lives
  // on while a callback holds it).
  void drop(const char* why) {
    if (closed) return;
    closed = true;
    log()->debug("control client {}: {}", id, why);
    g_cancellable_cancel(cancel.get());
    g_io_stream_close(G_IO_STREAM(conn.get()), nullptr, nullptr);
    out.clear();
    if (ControlServer* s = std::exchange(server, nullptr)) s->remove(this);
  }
};

ControlServer::ControlServer(Options options, Dispatcher& dispatcher)
    : options_(std::move(options)), dispatcher_(dispatcher) {}

Result<std::unique_ptr<ControlServer>> ControlServer::create(Options options, Dispatcher& dispatcher) {
  std::unique_ptr<ControlServer> s(new ControlServer(std::move(options), dispatcher));
  if (auto st = s->listen(); !st) return st.error();
  return s;
}

Status ControlServer::listen() {
  const std::string& path = options_.path;
  auto refuse = [&](const std::string& why) {
    return Error{ExitCode::CantCreate, "--control " + path + ": " + why};
  };
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return refuse("the path is too long for a Unix socket");
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return refuse("exists and is not a socket (remove it, or choose another path)");
    if (socket_is_live(path)) return refuse("another process is listening on it (another agent?)");
    log()->info("replacing the stale control socket {}", path);
    if (unlink(path.c_str()) != 0) return refuse(std::string("cannot remove the stale socket: ") + strerror(errno));
  }
  service_ = GRef<GSocketService>::adopt(g_socket_service_new());
  GRef<GSocketAddress> addr = GRef<GSocketAddress>::adopt(g_unix_socket_address_new(path.c_str()));
  GError* raw = nullptr;
  // bind() creates the file with the umask's mode: no wider than asked
  // from the first moment (created before the media threads exist).
  const mode_t old_mask = umask(0777 & ~static_cast<mode_t>(options_.mode));
  const gboolean bound = g_socket_listener_add_address(G_SOCKET_LISTENER(service_.get()), addr.get(),
                                                       G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, nullptr,
                                                       nullptr, &raw);
  umask(old_mask);
  if (!bound) {
    GUnique<GError> err(raw);
    return refuse(err ? err->message : "cannot listen");
  }
  bound_ = true;
  if (chmod(path.c_str(), options_.mode) != 0) return refuse(std::string("chmod: ") + strerror(errno));
  if (lstat(path.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
  g_signal_connect(service_.get(), "incoming", G_CALLBACK(&ControlServer::on_incoming), this);
  g_socket_service_start(service_.get());
  log()->info("control socket: {} (mode {:04o})", path, options_.mode);
  return Ok{};
}

ControlServer::~ControlServer() {
  if (service_) {
    g_signal_handlers_disconnect_by_data(service_.get(), this);
    g_socket_service_stop(service_.get());
    g_socket_listener_close(G_SOCKET_LISTENER(service_.get()));
  }
  auto clients = std::move(clients_);
  for (auto& c : clients) {
    c->server = nullptr;
    c->drop("the agent is exiting");
  }
  struct stat st {};
  if (bound_ && lstat(options_.path.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
    unlink(options_.path.c_str());
}

gboolean ControlServer::on_incoming(GSocketService*, GSocketConnection* conn, GObject*, gpointer data) {
  auto* self = static_cast<ControlServer*>(data);
  auto c = std::make_shared<Client>();
  c->server = self;
  c->id = self->next_id_++;
  c->conn = GRef<GSocketConnection>::ref(conn);
  self->clients_.push_back(c);
  log()->debug("control client {} connected", c->id);
  c->read_more();
  return TRUE;
}

void ControlServer::remove(Client* c) {
  std::erase_if(clients_, [c](const std::shared_ptr<Client>& p) { return p.get() == c; });
}

void ControlServer::publish(std::string_view event, const std::string& line) {
  // Copy: a client dropped for a full queue leaves clients_ meanwhile.
  auto clients = clients_;
  for (auto& c : clients)
    if (!c->closed && c->sub.wants(event)) c->send(line);
}

}  // namespace callagent::control
