#include "tracking/copy.h"

#include <algorithm>
#include <filesystem>
#include <variant>

#include "tracking/errors.h"
#include "tracking/schema.h"
#include "tracking/store.h"

namespace eonops::tracking {
namespace {

using Value = std::variant<std::monostate, int64_t, double, std::string>;
using Row = std::vector<Value>;

constexpr size_t kRowsPerInsert = 500;  // rows per multi-row INSERT (at most ~6000 values)
constexpr int kFetchRows = 5000;        // rows per FETCH from a PostgreSQL cursor

int64_t CountRows(Connection& db, const std::string& table) {
  auto st = db.Prepare("SELECT COUNT(*) FROM " + table, false);
  st.Step();
  return st.Int64(0);
}

Value ReadValue(const Statement& st, int col) {
  switch (st.Kind(col)) {
    case ColumnKind::kNull:
      return std::monostate{};
    case ColumnKind::kInteger:
      return st.Int64(col);
    case ColumnKind::kReal:
      return st.Double(col);
    case ColumnKind::kText:
      break;
  }
  return st.Text(col);
}

// Inserts `rows` into `table` of the destination in multi-row statements.
void InsertRows(Connection& to, const std::string& table, const std::vector<std::string>& columns,
                const std::vector<Row>& rows) {
  std::string one = "(";
  for (size_t c = 0; c < columns.size(); ++c) one += c ? ",?" : "?";
  one += ")";
  std::string head = "INSERT INTO " + table + "(";
  for (size_t c = 0; c < columns.size(); ++c) head += (c ? "," : "") + columns[c];
  head += ") VALUES ";
  for (size_t lo = 0; lo < rows.size(); lo += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, rows.size() - lo);
    std::string sql = head;
    for (size_t r = 0; r < n; ++r) sql += (r ? "," : "") + one;
    auto st = to.Prepare(sql, n == kRowsPerInsert);
    int index = 1;
    for (size_t r = lo; r < lo + n; ++r) {
      for (const Value& v : rows[r]) {
        if (const auto* i = std::get_if<int64_t>(&v)) {
          st.Bind(index, *i);
        } else if (const auto* d = std::get_if<double>(&v)) {
          st.Bind(index, *d);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
          st.Bind(index, *s);
        } else {
          st.BindNull(index);
        }
        ++index;
      }
    }
    st.Run();
  }
}

// Streams one table from `from` into `to`; returns the number of rows copied.
int64_t CopyTable(Connection& from, Connection& to, const std::string& table) {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t copied = 0;
  auto take = [&](Statement& st) {
    if (columns.empty())
      for (int c = 0; c < st.ColumnCount(); ++c) columns.push_back(st.ColumnName(c));
    Row row;
    row.reserve(columns.size());
    for (int c = 0; c < st.ColumnCount(); ++c) row.push_back(ReadValue(st, c));
    rows.push_back(std::move(row));
    if (rows.size() >= kRowsPerInsert * 10) {
      InsertRows(to, table, columns, rows);
      copied += static_cast<int64_t>(rows.size());
      rows.clear();
    }
  };
  if (from.dialect() == Dialect::kPostgres) {
    // libpq would hold a whole result in memory; a cursor hands out the table in slices.
    from.Exec("DECLARE eonops_copy NO SCROLL CURSOR FOR SELECT * FROM " + table);
    for (;;) {
      auto st = from.Prepare("FETCH " + std::to_string(kFetchRows) + " FROM eonops_copy", false);
      int got = 0;
      while (st.Step()) {
        take(st);
        ++got;
      }
      if (got < kFetchRows) break;
    }
    from.Exec("CLOSE eonops_copy");
  } else {
    auto st = from.Prepare("SELECT * FROM " + table, false);
    while (st.Step()) take(st);
  }
  if (!rows.empty()) InsertRows(to, table, columns, rows);
  return copied + static_cast<int64_t>(rows.size());
}

void RequireKnownTables(Connection& from) {
  const auto& known = SchemaTables();
  for (const std::string& t : from.Tables())
    if (std::find(known.begin(), known.end(), t) == known.end())
      throw TrackingError(ErrorCode::kInvalidParameterValue,
                          from.name() + " has a table '" + t +
                              "' that this eonops does not know how to copy; upgrade eonops");
}

// A destination may be a fresh store (schema and the Default experiment) and nothing more.
void RequireEmpty(Connection& to) {
  for (const std::string& t : SchemaTables()) {
    if (t == "schema_version") continue;
    auto st = to.Prepare("SELECT COUNT(*) FROM " + t +
                             (t == "experiments" ? " WHERE experiment_id != 0" : ""),
                         false);
    st.Step();
    if (st.Int64(0) > 0)
      throw TrackingError(ErrorCode::kInvalidParameterValue,
                          to.name() + " already holds data (table " + t + " has " +
                              std::to_string(st.Int64(0)) +
                              " rows); migrate into a new, empty database");
  }
}

}  // namespace

CopyReport CopyDatabase(Connection& from, Connection& to,
                        const std::function<void(const std::string&, int64_t)>& progress) {
  Migrate(from);
  Migrate(to);
  RunTransaction(from, TxMode::kRead, [&] { RequireKnownTables(from); });
  CopyReport report;
  RunTransaction(to, TxMode::kWrite, [&] {
    RequireEmpty(to);
    // A fresh store's own rows give way to the source's (same versions, the source's history).
    to.Exec("DELETE FROM experiment_tags; DELETE FROM experiments; DELETE FROM schema_version");
    report.tables.clear();
    RunTransaction(from, TxMode::kRead, [&] {
      for (const std::string& table : SchemaTables()) {
        TableCopy t;
        t.table = table;
        t.source_rows = CountRows(from, table);
        const int64_t copied = CopyTable(from, to, table);
        if (copied != t.source_rows)
          throw TrackingError(ErrorCode::kInternalError,
                              "copied " + std::to_string(copied) + " rows of " + table +
                                  " but the source counts " + std::to_string(t.source_rows));
        report.tables.push_back(t);
        if (progress) progress(table, copied);
      }
    });
    to.SyncIdentitySequences();
  });
  report.verified = RunTransaction(to, TxMode::kRead, [&] {
    bool all = true;
    for (TableCopy& t : report.tables) {
      t.destination_rows = CountRows(to, t.table);
      all = all && t.destination_rows == t.source_rows;
    }
    return all;
  });
  return report;
}

int64_t CountMissingArtifactBlobs(Connection& db, const std::string& artifact_root) {
  return RunTransaction(db, TxMode::kRead, [&] {
    auto st = db.Prepare("SELECT DISTINCT sha256 FROM artifacts", false);
    int64_t missing = 0;
    std::error_code ec;
    while (st.Step())
      if (!std::filesystem::exists(ArtifactBlobPath(artifact_root, st.Text(0)), ec)) ++missing;
    return missing;
  });
}

}  // namespace eonops::tracking
