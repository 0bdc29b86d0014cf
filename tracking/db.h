// Database access for the tracking store, one interface over SQLite and PostgreSQL: a
// connection with cached prepared statements, and transactions that ride out concurrent
// writers on either engine.
//
// SQL is written once, in the common subset of the two dialects: `?` / `?N` placeholders
// (PostgreSQL's `$N` is produced by its backend), `ON CONFLICT (...) DO ...` upserts,
// `RETURNING` instead of last-insert-id, `TRUE` rather than `1` as a condition, and a bound
// limit rather than SQLite's `LIMIT -1`. The few real differences (LIKE's escape character,
// how a table's existence is asked, integrity checks, schema locks) are methods here or a
// `Dialect` switch at the one place that builds such SQL.
//
// Concurrency model, the same contract on both engines: a write transaction behaves as if it
// ran alone (SQLite: BEGIN IMMEDIATE takes the single write lock; PostgreSQL: SERIALIZABLE
// isolation), a read transaction sees one snapshot. When the engine says "another transaction
// was in the way" (SQLite BUSY, PostgreSQL serialization failure or deadlock) or a pooled
// PostgreSQL connection was lost before COMMIT, RunTransaction rolls back and runs the whole
// transaction again with jittered backoff; only after `max_busy_wait_ms` does the caller see
// TEMPORARILY_UNAVAILABLE (HTTP 503, which MLflow clients retry), never "database is locked".
//
//   std::unique_ptr<Connection> db = OpenDatabase("postgresql://eonops@db:5432/tracking", {});
//   RunTransaction(*db, TxMode::kWrite, [&] {
//     auto st = db->Prepare("INSERT INTO params(run_pk, key, value) VALUES(?, ?, ?)");
//     st.Bind(1, run_pk).Bind(2, "lr").Bind(3, "3e-4").Run();
//   });
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace eonops::tracking {

enum class Dialect { kSqlite, kPostgres };

// True for "postgresql://..." and "postgres://..." locations; anything else is a SQLite file.
bool IsPostgresUrl(std::string_view location);
// The location with any password replaced by "***", for messages and logs.
std::string RedactedLocation(const std::string& location);

// A database failure, classified the same way for both engines.
class DbError : public std::runtime_error {
 public:
  enum class Kind {
    kOther,
    kBusy,          // another transaction was in the way: retry the whole transaction
    kBroken,        // the connection was lost before COMMIT: reconnect and retry
    kConstraint,    // a constraint refused the row
    kInvalidValue,  // the engine refused a value (PostgreSQL: NUL in text, bad encoding, ...)
  };
  DbError(Kind kind, const std::string& message, int code = 0)
      : std::runtime_error(message), kind_(kind), code_(code) {}
  Kind kind() const { return kind_; }
  bool busy() const { return kind_ == Kind::kBusy; }
  bool broken() const { return kind_ == Kind::kBroken; }
  bool constraint() const { return kind_ == Kind::kConstraint; }
  bool retryable() const { return busy() || broken(); }
  int code() const { return code_; }  // SQLite's extended result code (0 for PostgreSQL)

 private:
  Kind kind_;
  int code_;
};

// A value read generically (the copy between databases uses it; the store reads typed).
enum class ColumnKind { kNull, kInteger, kReal, kText };

// What a backend implements for one prepared statement. Indexes are 1-based for bindings (as
// SQLite's) and 0-based for columns.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void BindInt64(int index, int64_t value) = 0;
  virtual void BindDouble(int index, double value) = 0;  // never NaN (bound as NULL)
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindNull(int index) = 0;
  virtual bool Step() = 0;
  virtual void Reset() = 0;  // cursor and bindings
  virtual int ColumnCount() const = 0;
  virtual std::string ColumnName(int col) const = 0;
  virtual ColumnKind Kind(int col) const = 0;  // of the current row's value
  virtual int64_t Int64(int col) const = 0;      // 0 for NULL
  virtual double Double(int col) const = 0;      // not called for NULL
  virtual std::string Text(int col) const = 0;   // "" for NULL
};

class Connection;

// A prepared statement borrowed from the connection's cache (or owned, for SQL built at run
// time); it is reset and its bindings cleared when the Statement goes out of scope, so the
// next borrower starts clean.
class Statement {
 public:
  Statement(Statement&& o) noexcept : impl_(o.impl_), in_use_(o.in_use_) { o.impl_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value) {
    impl_->BindInt64(index, value);
    return *this;
  }
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);  // NaN binds as NULL (SQLite has no NaN)
  Statement& Bind(int index, std::string_view value) {
    impl_->BindText(index, value);
    return *this;
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& BindNull(int index) {
    impl_->BindNull(index);
    return *this;
  }
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances to the next row; false when done. Throws DbError.
  bool Step() { return impl_->Step(); }
  // Steps to completion (for statements that return no rows).
  void Run() {
    while (Step()) {
    }
  }
  // Clears the cursor and bindings so the statement can be executed again.
  void Reset() { impl_->Reset(); }

  int ColumnCount() const { return impl_->ColumnCount(); }
  std::string ColumnName(int col) const { return impl_->ColumnName(col); }
  ColumnKind Kind(int col) const { return impl_->Kind(col); }
  bool IsNull(int col) const { return impl_->Kind(col) == ColumnKind::kNull; }
  int64_t Int64(int col) const { return impl_->Int64(col); }  // NULL reads as 0
  double Double(int col) const;                                // NULL reads as NaN
  std::string Text(int col) const { return impl_->Text(col); }  // NULL reads as ""
  std::optional<int64_t> OptionalInt64(int col) const {
    if (IsNull(col)) return std::nullopt;
    return impl_->Int64(col);
  }

 private:
  friend class Connection;
  // `in_use` is the cache slot's flag, or nullptr for a statement this object owns.
  Statement(StatementImpl* impl, bool* in_use) : impl_(impl), in_use_(in_use) {}

  StatementImpl* impl_;
  bool* in_use_;
};

struct ConnectionOptions {
  // How long one attempt waits for a lock held by another transaction (SQLite's busy timeout,
  // PostgreSQL's lock_timeout) before the transaction is retried.
  int busy_timeout_ms = 5000;
  bool read_only = false;  // SQLite only
};

enum class TxMode { kRead, kWrite };

class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Dialect dialect() const = 0;
  // Where the connection points, safe to print (a PostgreSQL password is redacted).
  const std::string& name() const { return name_; }

  // Runs one or more statements that return no rows.
  virtual void Exec(const std::string& sql) = 0;
  // Borrows a cached prepared statement for `sql` (prepared once per connection). Pass
  // cache=false for SQL built at run time (search queries), which would only bloat the cache.
  Statement Prepare(const std::string& sql, bool cache = true);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t Changes() const = 0;
  virtual bool InTransaction() const = 0;

  // Transactions; use RunTransaction rather than these.
  virtual void Begin(TxMode mode) = 0;
  // Commits. A failure that leaves the transaction open is retried here (SQLite); one that
  // ends it throws DbError (busy: run the transaction again) or, when the outcome is unknown
  // (connection lost during COMMIT), TrackingError(TEMPORARILY_UNAVAILABLE).
  virtual void Commit() = 0;
  virtual void Rollback() noexcept = 0;

  // Outside any transaction: makes concurrent schema migrations from other processes wait until
  // UnlockSchema (PostgreSQL's DDL is not protected by SERIALIZABLE, and a transaction's
  // snapshot would predate a lock taken inside it). SQLite needs none: BEGIN IMMEDIATE already
  // excludes every other writer before the first read.
  virtual void LockSchema() = 0;
  virtual void UnlockSchema() noexcept = 0;
  virtual bool TableExists(const std::string& table) = 0;
  // Names of the tables in the database (the current schema, for PostgreSQL), sorted.
  virtual std::vector<std::string> Tables() = 0;
  // The engine's own consistency check: "ok" when sound.
  virtual std::string IntegrityCheck() = 0;
  // After rows were copied in with explicit ids: moves id generators past the largest id, so
  // that the next insert does not collide (PostgreSQL identity sequences; SQLite needs nothing).
  virtual void SyncIdentitySequences() {}

 protected:
  explicit Connection(std::string name) : name_(std::move(name)) {}
  // Prepares `sql` for this connection; `cached` statements live as long as the connection.
  virtual std::unique_ptr<StatementImpl> NewStatement(const std::string& sql, bool cached) = 0;
  // Backends call this first in their destructor: statements must go before the handle.
  void ClearStatementCache() { cache_.clear(); }

 private:
  struct Cached {
    std::unique_ptr<StatementImpl> impl;
    bool in_use = false;
  };
  std::string name_;
  std::unordered_map<std::string, Cached> cache_;
};

// Opens a SQLite file (created if needed) or a postgresql:// URL. Throws DbError naming the
// location (password redacted) when it cannot be opened.
std::unique_ptr<Connection> OpenDatabase(const std::string& location,
                                         const ConnectionOptions& options);

struct RetryPolicy {
  int max_busy_wait_ms = 60000;  // give up (TEMPORARILY_UNAVAILABLE) after this long
};

namespace internal {
// Sleeps before retry `attempt`; throws TrackingError(kTemporarilyUnavailable) once the total
// wait since `start_ms` exceeds the policy.
void BackoffOrGiveUp(int attempt, int64_t start_ms, const RetryPolicy& policy,
                     const std::string& what);
int64_t MonotonicMs();
}  // namespace internal

// Runs `fn` inside one transaction and returns its result. When the engine reports a conflict
// (DbError::retryable) anywhere inside, the transaction is rolled back and `fn` runs again, so
// `fn` must have no side effects outside the database. Any other exception rolls back and
// propagates. Not reentrant: `fn` must not start another transaction on the same connection.
template <typename Fn>
auto RunTransaction(Connection& db, TxMode mode, Fn&& fn, RetryPolicy policy = {})
    -> decltype(fn()) {
  const int64_t start = internal::MonotonicMs();
  for (int attempt = 0;; ++attempt) {
    try {
      db.Begin(mode);
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        db.Commit();
        return;
      } else {
        auto result = fn();
        db.Commit();
        return result;
      }
    } catch (const DbError& e) {
      db.Rollback();
      if (!e.retryable()) throw;
      internal::BackoffOrGiveUp(attempt, start, policy, e.what());
    } catch (...) {
      db.Rollback();
      throw;
    }
  }
}

}  // namespace eonops::tracking
