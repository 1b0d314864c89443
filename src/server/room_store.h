#pragma once
// The rooms the server ever created, in SQLite: a room id is a UUID that
// the server stored when it made the room. Rooms outlive restarts: a room
// terminal keeps its URL for months. Who is in a room right now is not
// stored here (see RoomHub).
//
// Owns the sqlite3 handle and its prepared statements; all calls on the
// main thread. At most `max_rooms` rooms exist; create() refuses more.

#include "common/result.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace callagent::server {

class RoomStore {
 public:
  // Opens (creating it and its parent directories if needed) the database
  // at `path`. ":memory:" works too.
  static Result<std::unique_ptr<RoomStore>> open(const std::string& path, std::size_t max_rooms);
  ~RoomStore();
  RoomStore(const RoomStore&) = delete;
  RoomStore& operator=(const RoomStore&) = delete;

  // Creates a room with a new random UUID and returns it. Errors:
  // Unavailable when max_rooms is reached, IoErr when SQLite fails.
  Result<std::string> create();
  // Whether `id` is a room this server created. Ids that are not UUIDs are
  // rejected without a query.
  bool exists(std::string_view id);
  std::size_t count() const { return count_; }
  std::size_t max_rooms() const { return max_rooms_; }

  // The default location: $XDG_STATE_HOME/callagent/rooms.db
  // (~/.local/state/callagent/rooms.db).
  static std::string default_path();

 private:
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  using Db = std::unique_ptr<sqlite3, DbCloser>;
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  RoomStore(Db db, std::size_t max_rooms);
  Status prepare();
  std::string errmsg() const;

  Db db_;
  Stmt insert_;
  Stmt select_;
  std::size_t max_rooms_;
  std::size_t count_ = 0;
};

}  // namespace callagent::server
