#include "server/room_store.h"

#include "common/gref.h"
#include "common/logging.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include <ctime>

namespace callagent::server {

void RoomStore::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void RoomStore::StmtFinalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

namespace {
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS rooms ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  created_at INTEGER NOT NULL"  // unix seconds, for an operator's eyes
    ")";
}  // namespace

std::string RoomStore::default_path() {
  GCharPtr p(g_build_filename(g_get_user_state_dir(), "callagent", "rooms.db", nullptr));
  return p.get();
}

Result<std::unique_ptr<RoomStore>> RoomStore::open(const std::string& path, std::size_t max_rooms) {
  if (path != ":memory:") {
    GCharPtr dir(g_path_get_dirname(path.c_str()));
    if (g_mkdir_with_parents(dir.get(), 0700) != 0) {
      return Error{ExitCode::CantCreate, "cannot create the directory '" + std::string(dir.get()) +
                                             "' for the room database: " + g_strerror(errno)};
    }
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Error{ExitCode::CantCreate, "cannot open the room database '" + path +
                                           "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  // Another process (a second server on the same file) may hold a lock
  // briefly; wait rather than fail a /create.
  sqlite3_busy_timeout(db.get(), 2000);
  char* err = nullptr;
  if (sqlite3_exec(db.get(), kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Error{ExitCode::CantCreate,
                 "cannot set up the room database '" + path + "': " + msg +
                     " (is it a callagent database?)"};
  }
  std::unique_ptr<RoomStore> store(new RoomStore(std::move(db), max_rooms));
  if (auto st = store->prepare(); !st) return st.error();
  return store;
}

RoomStore::RoomStore(Db db, std::size_t max_rooms) : db_(std::move(db)), max_rooms_(max_rooms) {}

RoomStore::~RoomStore() {
  // Statements before the handle: sqlite3_close_v2 would otherwise keep the
  // connection half-open until they are finalized.
  insert_.reset();
  select_.reset();
  db_.reset();
}

std::string RoomStore::errmsg() const { return sqlite3_errmsg(db_.get()); }

Status RoomStore::prepare() {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "INSERT INTO rooms (id, created_at) VALUES (?1, ?2)", -1, &s,
                         nullptr) != SQLITE_OK)
    return Error{ExitCode::CantCreate, "room database: " + errmsg()};
  insert_.reset(s);
  if (sqlite3_prepare_v2(db_.get(), "SELECT 1 FROM rooms WHERE id = ?1", -1, &s, nullptr) !=
      SQLITE_OK)
    return Error{ExitCode::CantCreate, "room database: " + errmsg()};
  select_.reset(s);
  sqlite3_stmt* c = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "SELECT COUNT(*) FROM rooms", -1, &c, nullptr) != SQLITE_OK)
    return Error{ExitCode::CantCreate, "room database: " + errmsg()};
  Stmt count_stmt(c);
  if (sqlite3_step(c) == SQLITE_ROW) count_ = static_cast<std::size_t>(sqlite3_column_int64(c, 0));
  return Ok{};
}

Result<std::string> RoomStore::create() {
  if (count_ >= max_rooms_) {
    return Error{ExitCode::Unavailable, "the server holds its maximum of " +
                                            std::to_string(max_rooms_) + " rooms"};
  }
  std::string id = GCharPtr(g_uuid_string_random()).get();
  sqlite3_stmt* s = insert_.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, id.c_str(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(std::time(nullptr)));
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    std::string msg = "cannot store a new room: " + errmsg();
    logging::get("server")->error("{}", msg);
    return Error{ExitCode::IoErr, msg};
  }
  ++count_;
  return id;
}

bool RoomStore::exists(std::string_view id) {
  std::string s_id(id);
  if (!g_uuid_string_is_valid(s_id.c_str())) return false;
  sqlite3_stmt* s = select_.get();
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, s_id.c_str(), static_cast<int>(s_id.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    logging::get("server")->error("room lookup failed: {}", errmsg());
  return rc == SQLITE_ROW;
}

}  // namespace callagent::server
