#include "server/room_store.h"

#include <catch2/catch.hpp>
#include <glib.h>
#include <glib/gstdio.h>

#include <string>

using callagent::server::RoomStore;

namespace {

// A temporary directory removed with its contents at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    gchar* p = g_dir_make_tmp("callagent-roomstore-XXXXXX", nullptr);
    REQUIRE(p);
    path = p;
    g_free(p);
  }
  ~TempDir() {
    for (const char* f : {"sub/deeper/rooms.db", "rooms.db", "bad.db"}) g_remove((path + "/" + f).c_str());
    g_rmdir((path + "/sub/deeper").c_str());
    g_rmdir((path + "/sub").c_str());
    g_rmdir(path.c_str());
  }
};

}  // namespace

TEST_CASE("rooms are UUIDs that persist across reopening", "[rooms]") {
  TempDir dir;
  std::string db = dir.path + "/sub/deeper/rooms.db";  // parent dirs are created
  std::string id;
  {
    auto store = RoomStore::open(db, 100);
    REQUIRE(store);
    auto created = (*store)->create();
    REQUIRE(created);
    id = *created;
    CHECK(g_uuid_string_is_valid(id.c_str()));
    CHECK((*store)->exists(id));
    CHECK((*store)->count() == 1);
  }
  auto reopened = RoomStore::open(db, 100);
  REQUIRE(reopened);
  CHECK((*reopened)->exists(id));
  CHECK((*reopened)->count() == 1);
}

TEST_CASE("unknown and malformed room ids do not exist", "[rooms]") {
  auto store = RoomStore::open(":memory:", 100);
  REQUIRE(store);
  CHECK_FALSE((*store)->exists("00000000-0000-4000-8000-000000000000"));
  CHECK_FALSE((*store)->exists(""));
  CHECK_FALSE((*store)->exists("'; DROP TABLE rooms; --"));
  auto id = (*store)->create();
  REQUIRE(id);
  CHECK_FALSE((*store)->exists(*id + "x"));
}

TEST_CASE("create refuses beyond max_rooms", "[rooms]") {
  auto store = RoomStore::open(":memory:", 2);
  REQUIRE(store);
  REQUIRE((*store)->create());
  REQUIRE((*store)->create());
  auto third = (*store)->create();
  REQUIRE_FALSE(third);
  CHECK(third.error().code == callagent::ExitCode::Unavailable);
}

TEST_CASE("a file that is not a database is an error, not a crash", "[rooms]") {
  TempDir dir;
  std::string bad = dir.path + "/bad.db";
  REQUIRE(g_file_set_contents(bad.c_str(), "this is not sqlite, not at all, no no no", -1, nullptr));
  auto store = RoomStore::open(bad, 10);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find(bad) != std::string::npos);
}

TEST_CASE("the default path follows XDG_STATE_HOME", "[rooms]") {
  std::string p = RoomStore::default_path();
  CHECK(p.size() > std::string("/callagent/rooms.db").size());
  CHECK(p.substr(p.size() - std::string("/callagent/rooms.db").size()) == "/callagent/rooms.db");
}
