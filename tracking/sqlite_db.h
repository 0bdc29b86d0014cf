// The SQLite backend of db.h: one database file, WAL mode, cached prepared statements.
//
// Concurrency: the file is in WAL mode, so readers never block the writer. Write transactions
// start with BEGIN IMMEDIATE (take the write lock up front, so a transaction can never fail
// half-way with SQLITE_BUSY when it upgrades from read to write); SQLite's busy handler waits
// for the lock and RunTransaction (db.h) retries the whole transaction if SQLite still reports
// BUSY.
//
//   SqliteConnection db("eonops.db", {});
//   RunTransaction(db, TxMode::kWrite, [&] { db.Exec("CREATE TABLE IF NOT EXISTS t(x)"); });
#pragma once

#include <sqlite3.h>

#include <string>

#include "tracking/db.h"

namespace eonops::tracking {

class SqliteConnection : public Connection {
 public:
  // Opens (creating if needed) and configures WAL, synchronous=NORMAL, foreign keys and the
  // busy timeout. Throws DbError naming the path on failure.
  SqliteConnection(const std::string& path, ConnectionOptions options);
  ~SqliteConnection() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  void Exec(const std::string& sql) override;
  int64_t Changes() const override;
  bool InTransaction() const override;
  void Begin(TxMode mode) override;
  void Commit() override;
  void Rollback() noexcept override;
  void LockSchema() override {}  // BEGIN IMMEDIATE already excludes every other writer
  void UnlockSchema() noexcept override {}
  bool TableExists(const std::string& table) override;
  std::vector<std::string> Tables() override;
  std::string IntegrityCheck() override;  // PRAGMA integrity_check

 protected:
  std::unique_ptr<StatementImpl> NewStatement(const std::string& sql, bool cached) override;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace eonops::tracking
