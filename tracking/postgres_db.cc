#include "tracking/postgres_db.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "tracking/errors.h"

namespace eonops::tracking {
namespace {

// Type OIDs from PostgreSQL's catalog/pg_type.dat (stable since 7.x; the server headers that
// define them are not part of libpq-dev).
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Any 64-bit number, the same for every eonops process: the key of the schema lock.
constexpr int64_t kSchemaLockKey = 0x656f6e6f7073;  // "eonops"

std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class PgStatement : public StatementImpl {
 public:
  PgStatement(PostgresConnection& conn, const std::string& sql, bool cached)
      : conn_(conn), cached_(cached) {
    int n = 0;
    sql_ = ToPostgresPlaceholders(sql, &n);
    values_.resize(static_cast<size_t>(n));
    is_null_.assign(static_cast<size_t>(n), true);
    types_.assign(static_cast<size_t>(n), 0);
  }
  ~PgStatement() override { PQclear(result_); }

  void BindInt64(int index, int64_t value) override {
    Set(index, std::to_string(value), kInt8Oid);
  }
  void BindDouble(int index, double value) override {
    if (std::isinf(value)) {
      Set(index, value > 0 ? "Infinity" : "-Infinity", kFloat8Oid);
      return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest exact form
    Set(index, std::string(buf, end), kFloat8Oid);
  }
  void BindText(int index, std::string_view value) override {
    if (value.find('\0') != std::string_view::npos)
      throw DbError(DbError::Kind::kInvalidValue,
                    "text values must not contain NUL characters (PostgreSQL cannot store them)");
    Set(index, std::string(value), kTextOid);
  }
  void BindNull(int index) override {
    Slot(index);
    is_null_[static_cast<size_t>(index - 1)] = true;
    types_[static_cast<size_t>(index - 1)] = 0;
  }

  bool Step() override {
    if (!result_) Execute();
    return ++row_ < PQntuples(result_);
  }
  void Reset() override {
    PQclear(result_);
    result_ = nullptr;
    row_ = -1;
    std::fill(is_null_.begin(), is_null_.end(), true);
    std::fill(types_.begin(), types_.end(), 0);
  }

  int ColumnCount() const override { return result_ ? PQnfields(result_) : 0; }
  std::string ColumnName(int col) const override {
    const char* n = result_ ? PQfname(result_, col) : nullptr;
    return n ? n : "";
  }
  ColumnKind Kind(int col) const override {
    if (PQgetisnull(result_, row_, col)) return ColumnKind::kNull;
    switch (PQftype(result_, col)) {
      case kInt8Oid:
      case kInt2Oid:
      case kInt4Oid:
      case kOidOid:
        return ColumnKind::kInteger;
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid:
        return ColumnKind::kReal;
      default:
        return ColumnKind::kText;
    }
  }
  int64_t Int64(int col) const override {
    const char* v = PQgetvalue(result_, row_, col);
    // A boolean column reads as 1/0, as SQLite stores booleans.
    if (v[0] == 't' && v[1] == '\0') return 1;
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return std::strtoll(v, nullptr, 10);
  }
  double Double(int col) const override {
    return std::strtod(PQgetvalue(result_, row_, col), nullptr);  // also NaN, Infinity
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }

 private:
  void Slot(int index) const {
    if (index < 1 || index > static_cast<int>(values_.size()))
      throw DbError(DbError::Kind::kOther, "bind index " + std::to_string(index) +
                                               " out of range in: " + sql_);
  }
  void Set(int index, std::string value, Oid type) {
    Slot(index);
    const size_t i = static_cast<size_t>(index - 1);
    values_[i] = std::move(value);
    is_null_[i] = false;
    types_[i] = type;
  }

  // Cached statements are prepared on the server once per connection, with the parameter
  // types of their first execution (unbound/NULL ones inferred by the server). A later call
  // that binds another type at some position prepares again under a new name.
  bool NeedsPrepare() const {
    if (prepared_generation_ != conn_.generation()) return true;
    for (size_t i = 0; i < types_.size(); ++i)
      if (types_[i] != 0 && types_[i] != prepared_types_[i]) return true;
    return false;
  }

  void Execute() {
    const int n = static_cast<int>(values_.size());
    std::vector<const char*> values(values_.size());
    for (size_t i = 0; i < values_.size(); ++i)
      values[i] = is_null_[i] ? nullptr : values_[i].c_str();
    PGresult* r = nullptr;
    if (cached_) {
      if (NeedsPrepare()) {
        if (prepared_generation_ != conn_.generation())
          prepared_types_.assign(types_.size(), 0);
        for (size_t i = 0; i < types_.size(); ++i)
          if (types_[i] != 0) prepared_types_[i] = types_[i];
        name_ = conn_.NextStatementName();
        PGresult* p = PQprepare(conn_.raw(), name_.c_str(), sql_.c_str(), n,
                                prepared_types_.empty() ? nullptr : prepared_types_.data());
        if (!p || PQresultStatus(p) != PGRES_COMMAND_OK) {
          prepared_generation_ = 0;
          conn_.Fail(p, sql_);
        }
        PQclear(p);
        prepared_generation_ = conn_.generation();
      }
      r = PQexecPrepared(conn_.raw(), name_.c_str(), n, values.data(), nullptr, nullptr, 0);
    } else {
      r = PQexecParams(conn_.raw(), sql_.c_str(), n, types_.empty() ? nullptr : types_.data(),
                       values.data(), nullptr, nullptr, 0);
    }
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) conn_.Fail(r, sql_);
    conn_.NoteCommand(r);
    result_ = r;
    row_ = -1;
  }

  PostgresConnection& conn_;
  const bool cached_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<bool> is_null_;
  std::vector<Oid> types_;
  std::string name_;
  std::vector<Oid> prepared_types_;
  uint64_t prepared_generation_ = 0;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

}  // namespace

std::string ToPostgresPlaceholders(const std::string& sql, int* parameters) {
  std::string out;
  out.reserve(sql.size() + 16);
  int largest = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // Copy a literal or quoted identifier verbatim (a doubled quote stays inside it).
      const size_t end = sql.find(c, i + 1);
      const size_t stop = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, stop - i);
      i = stop - 1;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    int index = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      index = index * 10 + (sql[j++] - '0');
    if (j == i + 1) index = largest + 1;
    largest = std::max(largest, index);
    out += '$' + std::to_string(index);
    i = j - 1;
  }
  *parameters = largest;
  return out;
}

std::string PostgresDdl(const std::string& sqlite_ddl) {
  const std::string& s = sqlite_ddl;
  std::string out;
  auto upper_word_at = [&](size_t i) {
    size_t j = i;
    while (j < s.size() && IsWordChar(s[j])) ++j;
    std::string w = s.substr(i, j - i);
    for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return std::make_pair(w, j);
  };
  auto next_word = [&](size_t from) {
    while (from < s.size() && std::isspace(static_cast<unsigned char>(s[from]))) ++from;
    return upper_word_at(from);
  };
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      const size_t stop = end == std::string::npos ? s.size() : end + 1;
      out.append(s, i, stop - i);
      i = stop;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      const size_t end = std::min(s.find('\n', i), s.size());
      out.append(s, i, end - i);
      i = end;
      continue;
    }
    if (!IsWordChar(c) || (i > 0 && IsWordChar(s[i - 1]))) {
      out += c;
      ++i;
      continue;
    }
    auto [word, end] = upper_word_at(i);
    if (word == "INTEGER") {
      auto [next, next_end] = next_word(end);
      auto [after, after_end] = next_word(next_end);
      out += next == "PRIMARY" && after == "KEY" ? "BIGINT GENERATED BY DEFAULT AS IDENTITY"
                                                 : "BIGINT";
    } else if (word == "REAL") {
      out += "DOUBLE PRECISION";
    } else if (word == "TEXT") {
      out += "TEXT COLLATE \"C\"";
    } else if (word == "WITHOUT" && next_word(end).first == "ROWID") {
      end = next_word(end).second;
    } else {
      out.append(s, i, end - i);
    }
    i = end;
  }
  return out;
}

PostgresConnection::PostgresConnection(const std::string& url, ConnectionOptions options)
    : Connection(RedactedLocation(url)), options_(options) {
  // Later entries win: the URL (expanded from "dbname") overrides these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"10", "eonops", "UTF8", url.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    std::string message = conn_ ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw DbError(DbError::Kind::kBroken, "cannot connect to " + name() + ": " + message);
  }
  try {
    ConfigureSession();
  } catch (...) {
    PQfinish(conn_);
    conn_ = nullptr;
    throw;
  }
}

PostgresConnection::~PostgresConnection() {
  ClearStatementCache();
  PQfinish(conn_);
}

void PostgresConnection::ConfigureSession() {
  // Server NOTICEs ("relation already exists, skipping") are not for our users' terminals.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  // extra_float_digits=3: doubles come back exactly (PostgreSQL >= 12 prints the shortest
  // exact form for any positive setting). lock_timeout: a row lock held by another transaction
  // is waited for this long, then the transaction is retried (as SQLite's busy timeout).
  Exec("SET extra_float_digits = 3; SET lock_timeout = " +
       std::to_string(std::max(1, options_.busy_timeout_ms)));
}

void PostgresConnection::Reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    throw DbError(DbError::Kind::kBroken,
                  "lost the connection to " + name() + ": " + Trimmed(PQerrorMessage(conn_)));
  ++generation_;  // server-side prepared statements are gone
  ConfigureSession();
}

void PostgresConnection::Fail(PGresult* result, const std::string& sql) {
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  std::string message =
      Trimmed(result && *PQresultErrorMessage(result) ? PQresultErrorMessage(result)
                                                      : PQerrorMessage(conn_));
  PQclear(result);
  DbError::Kind kind = DbError::Kind::kOther;
  if (state == "40001" || state == "40P01" || state == "55P03") {
    kind = DbError::Kind::kBusy;  // serialization failure, deadlock, lock timeout
  } else if (PQstatus(conn_) != CONNECTION_OK || state.rfind("08", 0) == 0 ||
             state.rfind("57P0", 0) == 0) {
    kind = DbError::Kind::kBroken;  // connection exception, server shutting down
  } else if (state.rfind("23", 0) == 0) {
    kind = DbError::Kind::kConstraint;
  } else if (state.rfind("22", 0) == 0 || state == "54000") {
    kind = DbError::Kind::kInvalidValue;  // data exception, value too large to index
  }
  if (message.empty()) message = "PostgreSQL error " + state;
  throw DbError(kind, message + (sql.empty() ? "" : " in: " + sql.substr(0, 200)));
}

void PostgresConnection::NoteCommand(const PGresult* result) {
  const char* status = PQcmdStatus(const_cast<PGresult*>(result));
  if (std::strncmp(status, "INSERT", 6) == 0 || std::strncmp(status, "UPDATE", 6) == 0 ||
      std::strncmp(status, "DELETE", 6) == 0)
    changes_ = std::strtoll(PQcmdTuples(const_cast<PGresult*>(result)), nullptr, 10);
}

void PostgresConnection::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Fail(r, sql);
  NoteCommand(r);
  PQclear(r);
}

std::unique_ptr<StatementImpl> PostgresConnection::NewStatement(const std::string& sql,
                                                                bool cached) {
  return std::make_unique<PgStatement>(*this, sql, cached);
}

bool PostgresConnection::InTransaction() const {
  const PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

void PostgresConnection::Begin(TxMode mode) {
  // A pooled connection whose server went away (restart, failover) is reset here, at the start
  // of a transaction, where retrying is always safe.
  if (PQstatus(conn_) != CONNECTION_OK) Reconnect();
  Exec(mode == TxMode::kWrite ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                              : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

void PostgresConnection::Commit() {
  try {
    Exec("COMMIT");
  } catch (const DbError& e) {
    if (!e.broken()) throw;  // a serialization failure at commit: the transaction is retried
    throw TrackingError(ErrorCode::kTemporarilyUnavailable,
                        "lost the connection to " + name() +
                            " while committing; the outcome is unknown, retry the request (" +
                            e.what() + ")");
  }
}

void PostgresConnection::Rollback() noexcept {
  if (PQstatus(conn_) != CONNECTION_OK || !InTransaction()) return;
  PGresult* r = PQexec(conn_, "ROLLBACK");
  PQclear(r);
}

void PostgresConnection::LockSchema() {
  if (PQstatus(conn_) != CONNECTION_OK) Reconnect();
  Exec("SELECT pg_advisory_lock(" + std::to_string(kSchemaLockKey) + ")");
}

void PostgresConnection::UnlockSchema() noexcept {
  // A lost connection has released the lock already.
  if (PQstatus(conn_) != CONNECTION_OK) return;
  PQclear(PQexec(conn_, ("SELECT pg_advisory_unlock(" + std::to_string(kSchemaLockKey) + ")").c_str()));
}

bool PostgresConnection::TableExists(const std::string& table) {
  auto st = Prepare(
      "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
      " AND tablename = ?");
  st.Bind(1, table).Step();
  return st.Int64(0) > 0;
}

std::vector<std::string> PostgresConnection::Tables() {
  auto st = Prepare(
      "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
      " ORDER BY tablename COLLATE \"C\"");
  std::vector<std::string> out;
  while (st.Step()) out.push_back(st.Text(0));
  return out;
}

std::string PostgresConnection::IntegrityCheck() {
  auto st = Prepare(
      "SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c"
      " ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"
      " ORDER BY 1");
  std::string result;
  while (st.Step()) result += (result.empty() ? "invalid index " : ", ") + st.Text(0);
  return result.empty() ? "ok" : result;
}

void PostgresConnection::SyncIdentitySequences() {
  std::vector<std::pair<std::string, std::string>> columns;
  {
    auto st = Prepare(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'");
    while (st.Step()) columns.emplace_back(st.Text(0), st.Text(1));
  }
  for (const auto& [table, column] : columns) {
    // Identifiers come from the catalog; quote them all the same.
    const std::string t = "\"" + table + "\"", c = "\"" + column + "\"";
    Exec("SELECT setval(pg_get_serial_sequence('" + t + "', '" + column + "'), COALESCE(MAX(" +
         c + "), 0) + 1, false) FROM " + t);
  }
}

}  // namespace eonops::tracking
