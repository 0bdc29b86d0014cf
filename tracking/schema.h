// The tracking database's schema and its versioned migrations.
//
// Each migration is applied once, inside its own write transaction, and recorded in the
// `schema_version` table; opening a database applies whatever is missing, so an old file is
// upgraded in place and a new binary never needs a separate migration step. A database written
// by a newer binary (a version this one does not know) is refused rather than misread.
//
//   Connection db("eonops.db", {});
//   Migrate(db);                       // to kLatestSchemaVersion
//   int v = SchemaVersion(db);         // 4
#pragma once

#include "tracking/sqlite_db.h"

namespace eonops::tracking {

// 1: experiments, runs, params, tags, metrics and latest metrics
// 2: per-episode RL records and content-hashed artifacts
// 3: model registry (registered models, versions, tags, aliases, stages)
// 4: audit trail of alias moves and stage transitions
inline constexpr int kLatestSchemaVersion = 5;

// The version recorded in the database; 0 for an empty file.
int SchemaVersion(Connection& db);

// Applies the migrations after the current version up to `target` (default: the latest).
// Throws TrackingError(kInternalError) if the database is newer than this binary.
void Migrate(Connection& db, int target = kLatestSchemaVersion);

}  // namespace eonops::tracking
