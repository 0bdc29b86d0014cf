// The PostgreSQL backend of db.h, over libpq: the tracking store on a shared database server,
// so that several tracking servers (replicas) behave as one.
//
// The store's SQL is written for both engines (db.h); this backend translates `?` / `?N`
// placeholders to `$N`, prepares cached statements once per connection (server-side), runs
// write transactions SERIALIZABLE and read transactions REPEATABLE READ READ ONLY (one
// snapshot, as SQLite's), and classifies SQLSTATEs into DbError kinds: 40001/40P01/55P03 are
// "busy" (the transaction is retried), a lost connection is "broken" (the next transaction
// reconnects). The schema is the SQLite one, translated by PostgresDdl.
//
//   PostgresConnection db("postgresql://eonops:secret@db.example:5432/tracking", {});
//   RunTransaction(db, TxMode::kRead, [&] { return db.TableExists("runs"); });
#pragma once

#include <libpq-fe.h>

#include <string>

#include "tracking/db.h"

namespace eonops::tracking {

// `?` and `?N` placeholders (outside string literals and quoted identifiers) to `$N`, with
// SQLite's numbering rule (a bare `?` is one more than the largest index so far). Sets
// `*parameters` to the largest index.
std::string ToPostgresPlaceholders(const std::string& sql, int* parameters);

// The schema's DDL, written for SQLite, in PostgreSQL's types: INTEGER -> BIGINT (an INTEGER
// PRIMARY KEY, SQLite's row id, becomes an identity column), REAL -> DOUBLE PRECISION, TEXT ->
// TEXT COLLATE "C" (byte order, as SQLite compares and sorts), no WITHOUT ROWID.
std::string PostgresDdl(const std::string& sqlite_ddl);

class PostgresConnection : public Connection {
 public:
  // Connects (libpq's URI or key=value syntax; a 10 s connect timeout unless the URL sets one).
  // Throws DbError (broken) naming the redacted URL when the server cannot be reached.
  PostgresConnection(const std::string& url, ConnectionOptions options);
  ~PostgresConnection() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  void Exec(const std::string& sql) override;
  int64_t Changes() const override { return changes_; }
  bool InTransaction() const override;
  void Begin(TxMode mode) override;
  void Commit() override;
  void Rollback() noexcept override;
  void LockSchema() override;  // a session-level advisory lock
  void UnlockSchema() noexcept override;
  bool TableExists(const std::string& table) override;
  std::vector<std::string> Tables() override;
  // PostgreSQL keeps its own consistency (constraints, WAL); this reports invalid indexes (a
  // failed concurrent index build leaves one) and otherwise "ok".
  std::string IntegrityCheck() override;
  void SyncIdentitySequences() override;

  // For the statements of this connection.
  PGconn* raw() const { return conn_; }
  // Bumped on every reconnect: server-side prepared statements do not survive one.
  uint64_t generation() const { return generation_; }
  std::string NextStatementName() { return "eonops_" + std::to_string(++statements_); }
  // Throws the DbError that `result` (nullptr: the connection's own error) describes; clears it.
  [[noreturn]] void Fail(PGresult* result, const std::string& sql);
  // Records the row count of an INSERT/UPDATE/DELETE for Changes().
  void NoteCommand(const PGresult* result);

 protected:
  std::unique_ptr<StatementImpl> NewStatement(const std::string& sql, bool cached) override;

 private:
  void ConfigureSession();
  void Reconnect();

  ConnectionOptions options_;
  PGconn* conn_ = nullptr;
  int64_t changes_ = 0;
  uint64_t generation_ = 1;
  uint64_t statements_ = 0;
};

}  // namespace eonops::tracking
