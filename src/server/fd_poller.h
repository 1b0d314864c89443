#pragma once
// One epoll descriptor for every WebSocket of the server, watched by a
// single GSource on the thread-default main context.
//
// GLib's main loop costs O(sources + descriptors) on every wake-up
// (prepare, query and check walk them all, poll() hands them all to the
// kernel), so a source per connection makes each relayed frame pay for
// every idle connection. Behind one epoll descriptor, a wake-up costs what
// the ready descriptors cost, however many are open.
//
// Level-triggered: a handler that leaves data unread is called again on
// the next iteration. Handlers may add, change or remove any watch
// (including their own) while called; a descriptor removed during a batch
// gets no further event from it, even if its number is reused.
//
// Ownership: the owner (Server) outlives every watch; each WsConnection
// removes its own watch before its descriptor is closed.
//
// A watch is named by the descriptor and the token add() returned: once a
// descriptor is closed the kernel hands its number to the next socket, and
// a late remove() by the old owner (its destructor, say) must not take the
// new connection's watch away. Calls with a stale token do nothing.

#include <glib.h>

#include <cstdint>
#include <functional>
#include <unordered_map>

namespace callagent::server {

class FdPoller {
 public:
  // Events: EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR, EPOLLRDHUP as epoll reports them.
  using Handler = std::function<void(std::uint32_t events)>;

  FdPoller();
  ~FdPoller();
  FdPoller(const FdPoller&) = delete;
  FdPoller& operator=(const FdPoller&) = delete;

  bool ok() const { return epfd_ >= 0; }
  // Watches `fd` for reading (and writing when `want_write`). Returns the
  // watch's token, 0 when the descriptor cannot be watched.
  std::uint32_t add(int fd, bool want_write, Handler handler);
  void set_want_write(int fd, std::uint32_t token, bool want_write);
  void remove(int fd, std::uint32_t token);
  bool watching(int fd, std::uint32_t token) const;
  std::size_t watched() const { return watches_.size(); }

 private:
  struct Watch {
    std::uint32_t generation;
    bool want_write;
    Handler handler;
  };
  static gboolean on_ready(gint fd, GIOCondition, gpointer self);
  void dispatch();

  int epfd_ = -1;
  GSource* source_ = nullptr;
  std::uint32_t next_generation_ = 1;
  std::unordered_map<int, Watch> watches_;
};

}  // namespace callagent::server
