// FdPoller: a watch is named by descriptor and token, so an old owner's late
// remove() cannot take a reused descriptor number's new watch away (the
// server once dropped a live peer as "silent" that way: its fd had been a
// just-aborted connection's, whose destructor removed the new watch).
#include "server/fd_poller.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <unistd.h>

using callagent::server::FdPoller;

namespace {
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

// Runs the thread-default context until nothing is pending (bounded).
void drain() {
  for (int i = 0; i < 50 && g_main_context_iteration(nullptr, FALSE); ++i) {
  }
}
}  // namespace

TEST_CASE("a stale token does not remove a reused descriptor's watch") {
  FdPoller poller;
  REQUIRE(poller.ok());
  Pipe first;
  int old_calls = 0, new_calls = 0;
  const int fd = first.r;
  const auto old_token = poller.add(fd, false, [&](std::uint32_t) { ++old_calls; });
  REQUIRE(old_token != 0);
  // The old owner closes its descriptor without removing the watch yet.
  ::close(first.r);
  first.r = -1;
  // The next socket gets the same number (the kernel hands out the lowest
  // free one; dup2 makes sure).
  Pipe second;
  if (second.r != fd) {
    REQUIRE(::dup2(second.r, fd) == fd);
    ::close(second.r);
    second.r = fd;
  }
  const auto new_token = poller.add(fd, false, [&](std::uint32_t) {
    ++new_calls;
    char c;
    REQUIRE(::read(fd, &c, 1) == 1);
  });
  REQUIRE(new_token != 0);
  REQUIRE(new_token != old_token);

  poller.remove(fd, old_token);  // the old owner's destructor, late
  CHECK(poller.watching(fd, new_token));
  CHECK(poller.watched() == 1);

  REQUIRE(::write(second.w, "x", 1) == 1);
  drain();
  CHECK(new_calls == 1);
  CHECK(old_calls == 0);

  poller.remove(fd, new_token);
  CHECK_FALSE(poller.watching(fd, new_token));
  REQUIRE(::write(second.w, "y", 1) == 1);
  drain();
  CHECK(new_calls == 1);
}

TEST_CASE("set_want_write with a stale token changes nothing") {
  FdPoller poller;
  Pipe p;
  int calls = 0;
  const auto token = poller.add(p.w, false, [&](std::uint32_t) { ++calls; });
  REQUIRE(token != 0);
  poller.set_want_write(p.w, token + 1, true);  // not this watch's token
  drain();
  CHECK(calls == 0);  // a writable pipe would have reported EPOLLOUT
  poller.set_want_write(p.w, token, true);
  drain();
  CHECK(calls >= 1);
  poller.remove(p.w, token);
}
