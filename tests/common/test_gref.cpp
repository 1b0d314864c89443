// GRef (reference counts on real GObjects) and GUnique (the right free
// function runs exactly once).
#include "common/gref.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <utility>

using callagent::FilePtr;
using callagent::GRef;
using callagent::GUnique;

namespace {

guint refcount(gpointer o) { return G_OBJECT(o)->ref_count; }

// A plain GObject and a weak pointer that becomes null when it is finalized.
struct Tracked {
  GObject* obj = static_cast<GObject*>(g_object_new(G_TYPE_OBJECT, nullptr));
  gpointer weak = obj;
  Tracked() { g_object_add_weak_pointer(obj, &weak); }
  ~Tracked() {
    if (weak) g_object_remove_weak_pointer(obj, &weak);
  }
  bool alive() const { return weak != nullptr; }
};

}  // namespace

TEST_CASE("GRef::adopt takes over the caller's reference", "[common][gref]") {
  Tracked t;
  {
    auto r = GRef<GObject>::adopt(t.obj);
    CHECK(r.get() == t.obj);
    CHECK(refcount(t.obj) == 1);
  }
  CHECK_FALSE(t.alive());
}

TEST_CASE("GRef::ref adds a reference and drops only its own", "[common][gref]") {
  Tracked t;
  {
    auto r = GRef<GObject>::ref(t.obj);
    CHECK(refcount(t.obj) == 2);
  }
  CHECK(t.alive());
  CHECK(refcount(t.obj) == 1);
  g_object_unref(t.obj);
  CHECK_FALSE(t.alive());
}

TEST_CASE("GRef::ref_sink sinks a floating reference", "[common][gref]") {
  auto* floating = static_cast<GObject*>(g_object_new(G_TYPE_INITIALLY_UNOWNED, nullptr));
  gpointer weak = floating;
  g_object_add_weak_pointer(floating, &weak);
  REQUIRE(g_object_is_floating(floating));
  {
    auto r = GRef<GObject>::ref_sink(floating);
    CHECK_FALSE(g_object_is_floating(floating));
    CHECK(refcount(floating) == 1);
  }
  CHECK(weak == nullptr);
}

TEST_CASE("GRef::ref_sink on a non-floating object adds a reference", "[common][gref]") {
  Tracked t;
  {
    auto r = GRef<GObject>::ref_sink(t.obj);
    CHECK(refcount(t.obj) == 2);
  }
  CHECK(refcount(t.obj) == 1);
  g_object_unref(t.obj);
}

TEST_CASE("GRef copies add a reference, moves do not", "[common][gref]") {
  Tracked t;
  {
    auto a = GRef<GObject>::adopt(t.obj);
    GRef<GObject> b(a);
    CHECK(refcount(t.obj) == 2);
    GRef<GObject> c;
    c = b;
    CHECK(refcount(t.obj) == 3);
    c = c;  // self-assignment keeps the count
    CHECK(refcount(t.obj) == 3);
    GRef<GObject> d(std::move(a));
    CHECK_FALSE(a);
    CHECK(d.get() == t.obj);
    CHECK(refcount(t.obj) == 3);
    GRef<GObject> e;
    e = std::move(b);
    CHECK_FALSE(b);
    CHECK(refcount(t.obj) == 3);
    c.reset();
    CHECK(refcount(t.obj) == 2);
  }
  CHECK_FALSE(t.alive());
}

TEST_CASE("GRef move-assignment drops the reference it held", "[common][gref]") {
  Tracked first, second;
  auto a = GRef<GObject>::adopt(first.obj);
  auto b = GRef<GObject>::adopt(second.obj);
  a = std::move(b);
  CHECK_FALSE(first.alive());
  CHECK(second.alive());
  CHECK(a.get() == second.obj);
  a = nullptr;
  CHECK_FALSE(second.alive());
}

TEST_CASE("GRef::release hands the reference back", "[common][gref]") {
  Tracked t;
  GObject* raw = nullptr;
  {
    auto r = GRef<GObject>::adopt(t.obj);
    raw = r.release();
    CHECK_FALSE(r);
  }
  CHECK(t.alive());
  CHECK(refcount(raw) == 1);
  g_object_unref(raw);
  CHECK_FALSE(t.alive());
}

TEST_CASE("GRef of nullptr is empty and safe", "[common][gref]") {
  auto a = GRef<GObject>::ref(nullptr);
  auto b = GRef<GObject>::ref_sink(nullptr);
  GRef<GObject> c(a);
  CHECK_FALSE(a);
  CHECK_FALSE(b);
  CHECK_FALSE(c);
  c.reset();
}

namespace {
int bytes_freed = 0;
void count_free(gpointer) { ++bytes_freed; }
}  // namespace

TEST_CASE("GUnique frees with the type's own function, once", "[common][gref]") {
  bytes_freed = 0;
  static char data[] = "abc";
  {
    GUnique<GBytes> b(g_bytes_new_with_free_func(data, 3, count_free, nullptr));
    GUnique<GBytes> moved(std::move(b));
    CHECK_FALSE(b);
    CHECK(bytes_freed == 0);
  }
  CHECK(bytes_freed == 1);

  GUnique<GBytes> r(g_bytes_new_with_free_func(data, 3, count_free, nullptr));
  r.reset();
  CHECK(bytes_freed == 2);
  r.reset();  // empty: nothing more
  CHECK(bytes_freed == 2);

  callagent::GCharPtr s(g_strdup("hello"));
  CHECK(std::string(s.get()) == "hello");
  callagent::GErrorPtr e(g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_NOENT, "gone"));
  CHECK(e->code == G_FILE_ERROR_NOENT);
}

TEST_CASE("FilePtr closes its file", "[common][gref]") {
  int fd = -1;
  {
    FilePtr f(std::tmpfile());
    REQUIRE(f);
    fd = fileno(f.get());
    CHECK(fcntl(fd, F_GETFD) != -1);
  }
  CHECK(fcntl(fd, F_GETFD) == -1);
}
