// Copying a whole tracking database to another one, e.g. from a SQLite file to PostgreSQL
// (`eonops tracking migrate --from eonops.db --to postgresql://...`): experiments, runs, params,
// tags, metrics, episodes, artifacts' index, the registry and its audit trail, row for row with
// the same ids, in one transaction on the destination, then verified by counting.
//
//   auto from = OpenDatabase("eonops.db", {});
//   auto to = OpenDatabase("postgresql://eonops@db/tracking", {});
//   CopyReport report = CopyDatabase(*from, *to);
//   if (!report.verified) ...   // report.tables: rows per table on both sides
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tracking/db.h"

namespace eonops::tracking {

struct TableCopy {
  std::string table;
  int64_t source_rows = 0;       // counted in the source's snapshot
  int64_t destination_rows = 0;  // counted in the destination after the commit
};

struct CopyReport {
  std::vector<TableCopy> tables;  // in copy order (SchemaTables())
  bool verified = false;          // every table has as many rows on both sides
};

// Brings both databases to the latest schema, refuses a destination that already holds data
// (anything beyond the Default experiment a fresh store creates), copies every table inside one
// write transaction on the destination (all or nothing) from one read snapshot of the source,
// then counts both sides. `progress` is told each table's name and row count when it is done.
// Throws TrackingError(INVALID_PARAMETER_VALUE) for a non-empty destination or a source
// table this binary does not know.
CopyReport CopyDatabase(
    Connection& from, Connection& to,
    const std::function<void(const std::string& table, int64_t rows)>& progress = {});

// Artifact bytes stay in the artifact root (a shared directory), not in the database: how many
// distinct artifact contents the database lists are missing from `artifact_root`.
int64_t CountMissingArtifactBlobs(Connection& db, const std::string& artifact_root);

}  // namespace eonops::tracking
