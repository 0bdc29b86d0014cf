// The tracking database's schema and its versioned migrations.
//
// Each migration is applied once, inside its own write transaction, and recorded in the
// `schema_version` table; opening a database applies whatever is missing, so an old file is
// upgraded in place and a new binary never needs a separate migration step. A database written
// by a newer binary (a version this one does not know) is refused rather than misread.
//
// The migrations are written once, for SQLite, and applied to PostgreSQL through PostgresDdl
// (postgres_db.h): the same tables, keys, indexes and versions on both engines.
//
//   auto db = OpenDatabase("eonops.db", {});   // or "postgresql://..."
//   Migrate(*db);                       // to kLatestSchemaVersion
//   int v = SchemaVersion(*db);         // 4
#pragma once

#include <string>
#include <vector>

#include "tracking/db.h"

namespace eonops::tracking {

// 1: experiments, runs, params, tags, metrics and latest metrics
// 2: per-episode RL records and content-hashed artifacts
// 3: model registry (registered models, versions, tags, aliases, stages)
// 4: audit trail of alias moves and stage transitions
// 5: decisions of control loops (the lifecycle service) about model versions
inline constexpr int kLatestSchemaVersion = 5;

// The version recorded in the database; 0 for an empty file.
int SchemaVersion(Connection& db);

// Applies the migrations after the current version up to `target` (default: the latest).
// Throws TrackingError(kInternalError) if the database is newer than this binary.
void Migrate(Connection& db, int target = kLatestSchemaVersion);

// Every table of the latest schema, parents before the tables whose foreign keys point at
// them: the order in which `CopyDatabase` (copy.h) fills a new database.
const std::vector<std::string>& SchemaTables();

}  // namespace eonops::tracking
