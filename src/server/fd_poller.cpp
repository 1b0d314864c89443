#include "server/fd_poller.h"

#include "common/logging.h"

#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace callagent::server {

namespace {
std::shared_ptr<spdlog::logger> poller_log() { return logging::get("ws"); }
// Events taken per epoll_wait; more stay ready for the next iteration.
constexpr int kBatch = 256;

std::uint32_t interest(bool want_write) {
  return EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u);
}
std::uint64_t pack(int fd, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
}
}  // namespace

FdPoller::FdPoller() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    poller_log()->error("epoll_create1: {}", std::strerror(errno));
    return;
  }
  source_ = g_unix_fd_source_new(epfd_, G_IO_IN);
  g_source_set_callback(source_, G_SOURCE_FUNC(&FdPoller::on_ready), this, nullptr);
  g_source_attach(source_, g_main_context_get_thread_default());
}

FdPoller::~FdPoller() {
  if (source_) {
    g_source_destroy(source_);
    g_source_unref(source_);
  }
  if (epfd_ >= 0) ::close(epfd_);
}

std::uint32_t FdPoller::add(int fd, bool want_write, Handler handler) {
  if (epfd_ < 0 || fd < 0) return 0;
  std::uint32_t gen = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;
  epoll_event ev{};
  ev.events = interest(want_write);
  ev.data.u64 = pack(fd, gen);
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    poller_log()->warn("epoll_ctl(ADD, {}): {}", fd, std::strerror(errno));
    return 0;
  }
  watches_[fd] = Watch{gen, want_write, std::move(handler)};
  return gen;
}

bool FdPoller::watching(int fd, std::uint32_t token) const {
  auto it = watches_.find(fd);
  return it != watches_.end() && it->second.generation == token;
}

void FdPoller::set_want_write(int fd, std::uint32_t token, bool want_write) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second.generation != token || it->second.want_write == want_write) return;
  it->second.want_write = want_write;
  epoll_event ev{};
  ev.events = interest(want_write);
  ev.data.u64 = pack(fd, it->second.generation);
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0)
    poller_log()->warn("epoll_ctl(MOD, {}): {}", fd, std::strerror(errno));
}

void FdPoller::remove(int fd, std::uint32_t token) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || it->second.generation != token) return;  // not (or no longer) ours
  watches_.erase(it);
  if (epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF && errno != ENOENT)
    poller_log()->warn("epoll_ctl(DEL, {}): {}", fd, std::strerror(errno));
}

gboolean FdPoller::on_ready(gint, GIOCondition, gpointer self) {
  static_cast<FdPoller*>(self)->dispatch();
  return G_SOURCE_CONTINUE;
}

void FdPoller::dispatch() {
  epoll_event events[kBatch];
  int n = epoll_wait(epfd_, events, kBatch, 0);
  if (n < 0 && errno != EINTR) poller_log()->warn("epoll_wait: {}", std::strerror(errno));
  for (int i = 0; i < n; ++i) {
    const int fd = static_cast<int>(events[i].data.u64 & 0xFFFFFFFFu);
    const auto gen = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second.generation != gen) continue;  // removed in this batch
    // A copy: the handler may remove its own watch.
    Handler h = it->second.handler;
    h(events[i].events);
  }
}

}  // namespace callagent::server
