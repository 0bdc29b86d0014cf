#include "tracking/sqlite_db.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace eonops::tracking {
namespace {

DbError SqliteFailure(int code, const std::string& message) {
  const int primary = code & 0xff;
  DbError::Kind kind = DbError::Kind::kOther;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) kind = DbError::Kind::kBusy;
  if (primary == SQLITE_CONSTRAINT) kind = DbError::Kind::kConstraint;
  return DbError(kind, message, code);
}

class SqliteStatement : public StatementImpl {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void BindInt64(int index, int64_t value) override {
    Check(sqlite3_bind_int64(stmt_, index, value));
  }
  void BindDouble(int index, double value) override {
    Check(sqlite3_bind_double(stmt_, index, value));
  }
  void BindText(int index, std::string_view value) override {
    Check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                            SQLITE_TRANSIENT));
  }
  void BindNull(int index) override { Check(sqlite3_bind_null(stmt_, index)); }

  bool Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // sqlite3_step's own code is the primary one; the extended one is on the connection.
    throw SqliteFailure(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
  }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int ColumnCount() const override { return sqlite3_column_count(stmt_); }
  std::string ColumnName(int col) const override {
    const char* n = sqlite3_column_name(stmt_, col);
    return n ? n : "";
  }
  ColumnKind Kind(int col) const override {
    switch (sqlite3_column_type(stmt_, col)) {
      case SQLITE_NULL:
        return ColumnKind::kNull;
      case SQLITE_INTEGER:
        return ColumnKind::kInteger;
      case SQLITE_FLOAT:
        return ColumnKind::kReal;
      default:
        return ColumnKind::kText;
    }
  }
  int64_t Int64(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  void Check(int rc) const {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    throw SqliteFailure(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace

SqliteConnection::SqliteConnection(const std::string& path, ConnectionOptions options)
    : Connection(path) {
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
    throw SqliteFailure(rc, "cannot open database " + path + ": " + message);
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
        // MLflow's LIKE is case-sensitive (as PostgreSQL's); ILIKE is implemented with lower().
        Exec("PRAGMA case_sensitive_like=ON");
        break;
      } catch (const DbError& e) {
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

SqliteConnection::~SqliteConnection() {
  ClearStatementCache();
  sqlite3_close(db_);
}

void SqliteConnection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteFailure(sqlite3_extended_errcode(db_), message);
  }
}

std::unique_ptr<StatementImpl> SqliteConnection::NewStatement(const std::string& sql,
                                                              bool cached) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              cached ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK)
    throw SqliteFailure(sqlite3_extended_errcode(db_),
                        std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  return std::make_unique<SqliteStatement>(db_, stmt);
}

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }
bool SqliteConnection::InTransaction() const { return !sqlite3_get_autocommit(db_); }

void SqliteConnection::Begin(TxMode mode) {
  Exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void SqliteConnection::Commit() {
  // In WAL mode COMMIT rarely reports BUSY (e.g. while another connection recovers the WAL);
  // the transaction is still open then, so retrying COMMIT itself is safe.
  for (int i = 0;; ++i) {
    try {
      Exec("COMMIT");
      return;
    } catch (const DbError& e) {
      if (!e.busy() || i >= 20) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (i + 1)));
    }
  }
}

void SqliteConnection::Rollback() noexcept {
  if (!InTransaction()) return;
  try {
    Exec("ROLLBACK");
  } catch (...) {
    // Nothing more to do: SQLite rolls back an open transaction when the connection closes.
  }
}

bool SqliteConnection::TableExists(const std::string& table) {
  auto st = Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  st.Bind(1, table);
  return st.Step();
}

std::vector<std::string> SqliteConnection::Tables() {
  auto st = Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%'"
      " ESCAPE '\\' ORDER BY name");
  std::vector<std::string> out;
  while (st.Step()) out.push_back(st.Text(0));
  return out;
}

std::string SqliteConnection::IntegrityCheck() {
  auto st = Prepare("PRAGMA integrity_check", false);
  std::string result;
  while (st.Step()) result += (result.empty() ? "" : "\n") + st.Text(0);
  return result;
}

}  // namespace eonops::tracking
