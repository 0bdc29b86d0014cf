// A thin RAII layer over SQLite for the tracking store: a connection with cached prepared
// statements, and transactions that ride out concurrent writers.
//
// Concurrency model: the database is in WAL mode, so readers never block the writer. Write
// transactions start with BEGIN IMMEDIATE (take the write lock up front, so a transaction can
// never fail half-way with SQLITE_BUSY when it upgrades from read to write); the busy handler
// waits for the lock, and RunTransaction retries the whole transaction with backoff if SQLite
// still reports BUSY. Only after `max_busy_wait_ms` does the caller see an error, and then as
// TEMPORARILY_UNAVAILABLE (HTTP 503, which MLflow clients retry), never "database is locked".
//
//   Connection db("eonops.db", {});
//   RunTransaction(db, TxMode::kWrite, [&] {
//     auto st = db.Prepare("INSERT INTO params(run_pk, key, value) VALUES(?, ?, ?)");
//     st.Bind(1, run_pk).Bind(2, "lr").Bind(3, "3e-4").Run();
//   });
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace eonops::tracking {

// An SQLite failure; `busy()` when another connection held a lock.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }
  bool busy() const {
    int primary = code_ & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
  }
  bool constraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

 private:
  int code_;
};

class Connection;

// A prepared statement borrowed from the connection's cache; it is reset and its bindings
// cleared when the Statement goes out of scope, so the next borrower starts clean.
class Statement {
 public:
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), in_use_(o.in_use_) {
    o.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);  // NaN binds as NULL (SQLite has no NaN)
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& BindNull(int index);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances to the next row; false when done. Throws SqliteError.
  bool Step();
  // Steps to completion (for statements that return no rows).
  void Run();
  // Clears the cursor and bindings so the statement can be executed again.
  void Reset();

  bool IsNull(int col) const;
  int64_t Int64(int col) const;
  double Double(int col) const;  // NULL reads as NaN
  std::string Text(int col) const;
  std::optional<int64_t> OptionalInt64(int col) const;

 private:
  friend class Connection;
  // `in_use` is the cache slot's flag, or nullptr for a statement this object owns.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  void Check(int rc) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

struct ConnectionOptions {
  int busy_timeout_ms = 5000;  // SQLite's own wait for a lock, per attempt
  bool read_only = false;
};

class Connection {
 public:
  // Opens (creating if needed) and configures WAL, synchronous=NORMAL, foreign keys and the
  // busy timeout. Throws SqliteError naming the path on failure.
  Connection(const std::string& path, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows.
  void Exec(const std::string& sql);
  // Borrows a cached prepared statement for `sql` (prepared once per connection). Pass
  // cache=false for SQL built at run time (search queries), which would only bloat the cache.
  Statement Prepare(const std::string& sql, bool cache = true);
  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  bool InTransaction() const;
  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  std::unordered_map<std::string, Cached> cache_;
};

enum class TxMode { kRead, kWrite };

struct RetryPolicy {
  int max_busy_wait_ms = 60000;  // give up (TEMPORARILY_UNAVAILABLE) after this long
};

namespace internal {
// The non-template halves of RunTransaction (sqlite_db.cc).
void Begin(Connection& db, TxMode mode);
// Commits; on SQLITE_BUSY retries the COMMIT briefly and, failing that, rolls back and throws.
void Commit(Connection& db);
void RollbackQuietly(Connection& db) noexcept;
// Sleeps before retry `attempt`; throws TrackingError(kTemporarilyUnavailable) once the total
// wait since `start_ms` exceeds the policy.
void BackoffOrGiveUp(int attempt, int64_t start_ms, const RetryPolicy& policy,
                     const std::string& what);
int64_t MonotonicMs();
}  // namespace internal

// Runs `fn` inside one transaction and returns its result. On SQLITE_BUSY anywhere inside, the
// transaction is rolled back and `fn` runs again, so `fn` must have no side effects outside the
// database. Any other exception rolls back and propagates. Not reentrant: `fn` must not start
// another transaction on the same connection.
template <typename Fn>
auto RunTransaction(Connection& db, TxMode mode, Fn&& fn, RetryPolicy policy = {})
    -> decltype(fn()) {
  const int64_t start = internal::MonotonicMs();
  for (int attempt = 0;; ++attempt) {
    try {
      internal::Begin(db, mode);
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        internal::Commit(db);
        return;
      } else {
        auto result = fn();
        internal::Commit(db);
        return result;
      }
    } catch (const SqliteError& e) {
      internal::RollbackQuietly(db);
      if (!e.busy()) throw;
      internal::BackoffOrGiveUp(attempt, start, policy, e.what());
    } catch (...) {
      internal::RollbackQuietly(db);
      throw;
    }
  }
}

}  // namespace eonops::tracking
