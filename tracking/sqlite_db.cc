#include "tracking/sqlite_db.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "tracking/errors.h"

namespace eonops::tracking {

Statement::~Statement() {
  if (!stmt_) return;
  if (in_use_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

void Statement::Check(int rc) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  throw SqliteError(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
}

Statement& Statement::Bind(int index, int64_t value) {
  Check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  Check(std::isnan(value) ? sqlite3_bind_null(stmt_, index)
                          : sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  Check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::BindNull(int index) {
  Check(sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step's own code is the primary one; the extended one is on the connection.
  throw SqliteError(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
}

void Statement::Run() {
  while (Step()) {
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::Int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const {
  return IsNull(col) ? std::nan("") : sqlite3_column_double(stmt_, col);
}
std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::optional<int64_t> Statement::OptionalInt64(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int64(col);
}

Connection::Connection(const std::string& path, ConnectionOptions options) : path_(path) {
  // NOMUTEX: a connection is only ever used by one thread at a time (the store's pool hands
  // each out exclusively), so SQLite's per-connection mutex would be pure overhead.
  int flags =
      options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, "cannot open database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  try {
    // Switching a fresh file to WAL needs an exclusive lock, and SQLite may answer BUSY at once
    // (without its busy handler) while other processes open the same new file; retry then.
    const int64_t start = internal::MonotonicMs();
    for (int attempt = 0;; ++attempt) {
      try {
        if (!options.read_only) {
          // WAL: readers see a snapshot and never block the single writer. synchronous=NORMAL
          // is durable against process crashes (SIGKILL) in WAL mode; only an OS crash or power
          // cut can lose the last few commits, never corrupt the file.
          Exec("PRAGMA journal_mode=WAL");
          Exec("PRAGMA synchronous=NORMAL");
        }
        Exec("PRAGMA foreign_keys=ON");
        // MLflow's LIKE is case-sensitive; ILIKE is implemented with lower().
        Exec("PRAGMA case_sensitive_like=ON");
        break;
      } catch (const SqliteError& e) {
        if (!e.busy()) throw;
        RetryPolicy policy;
        policy.max_busy_wait_ms = std::max(options.busy_timeout_ms * 4, 20000);
        internal::BackoffOrGiveUp(attempt, start, policy, e.what());
      }
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Connection::~Connection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

void Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(sqlite3_extended_errcode(db_), message);
  }
}

Statement Connection::Prepare(const std::string& sql, bool cache) {
  auto it = cache ? cache_.find(sql) : cache_.end();
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(db_, it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK)
    throw SqliteError(sqlite3_extended_errcode(db_),
                      std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  // Uncached, or the cached one is busy (a nested use): an owned, one-off statement.
  if (!cache || it != cache_.end()) return Statement(db_, stmt, nullptr);
  auto& slot = cache_[sql];
  slot.stmt = stmt;
  slot.in_use = true;
  return Statement(db_, stmt, &slot.in_use);
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Connection::Changes() const { return sqlite3_changes64(db_); }
bool Connection::InTransaction() const { return !sqlite3_get_autocommit(db_); }

namespace internal {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Begin(Connection& db, TxMode mode) {
  db.Exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void Commit(Connection& db) {
  // In WAL mode COMMIT rarely reports BUSY (e.g. while another connection recovers the WAL);
  // the transaction is still open then, so retrying COMMIT itself is safe.
  for (int i = 0;; ++i) {
    try {
      db.Exec("COMMIT");
      return;
    } catch (const SqliteError& e) {
      if (!e.busy() || i >= 20) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (i + 1)));
    }
  }
}

void RollbackQuietly(Connection& db) noexcept {
  if (!db.InTransaction()) return;
  try {
    db.Exec("ROLLBACK");
  } catch (...) {
    // Nothing more to do: SQLite rolls back an open transaction when the connection closes.
  }
}

void BackoffOrGiveUp(int attempt, int64_t start_ms, const RetryPolicy& policy,
                     const std::string& what) {
  int64_t waited = MonotonicMs() - start_ms;
  if (waited >= policy.max_busy_wait_ms)
    throw TrackingError(ErrorCode::kTemporarilyUnavailable, "the database stayed busy for " +
                                                                std::to_string(waited) +
                                                                " ms; retry later (" + what + ")");
  // Jittered exponential backoff so that retrying writers do not stampede in lockstep.
  thread_local std::mt19937 rng{std::random_device{}()};
  int cap = std::min(200, 2 << std::min(attempt, 7));
  std::uniform_int_distribution<int> jitter(1, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

}  // namespace internal
}  // namespace eonops::tracking
