#include "tracking/schema.h"

#include <string>

#include "tracking/entities.h"
#include "tracking/errors.h"
#include "tracking/postgres_db.h"

namespace eonops::tracking {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Never edit a migration that has shipped: add a new one. Ids of runs are 32-hex strings in
// the API, but rows reference runs by the integer `run_pk`, which keeps the big tables (metrics,
// episodes) and their indexes small.
const Migration kMigrations[] = {
    {1, "experiments, runs, params, tags, metrics", R"sql(
CREATE TABLE experiments (
  experiment_id     INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
  creation_time     INTEGER NOT NULL,
  last_update_time  INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key           TEXT NOT NULL,
  value         TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE runs (
  run_pk          INTEGER PRIMARY KEY,
  run_uuid        TEXT NOT NULL UNIQUE,
  experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
  name            TEXT NOT NULL,
  user_id         TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL,
  start_time      INTEGER NOT NULL,
  end_time        INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  artifact_uri    TEXT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
CREATE TABLE params (
  run_pk INTEGER NOT NULL REFERENCES runs(run_pk),
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_pk INTEGER NOT NULL REFERENCES runs(run_pk),
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_pk, key)
) WITHOUT ROWID;
-- One row per (run, metric key): the latest value (max step, then timestamp, then value, as
-- MLflow defines it), and the id that the history rows in `metrics` hang off.
CREATE TABLE latest_metrics (
  series_id INTEGER PRIMARY KEY,
  run_pk    INTEGER NOT NULL REFERENCES runs(run_pk),
  key       TEXT NOT NULL,
  value     REAL NOT NULL,
  is_nan    INTEGER NOT NULL DEFAULT 0,
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  UNIQUE (run_pk, key)
);
CREATE INDEX latest_metrics_by_key ON latest_metrics(key, value);
-- Every logged point, clustered by series and step: one b-tree, so an insert writes once and
-- a history is one range scan. As in MLflow (whose metrics key includes the value), logging
-- the very same point twice stores it once, which makes retried requests harmless.
CREATE TABLE metrics (
  series_id INTEGER NOT NULL REFERENCES latest_metrics(series_id),
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  is_nan    INTEGER NOT NULL DEFAULT 0,
  value     REAL NOT NULL,
  PRIMARY KEY (series_id, step, timestamp, is_nan, value)
) WITHOUT ROWID;
)sql"},
    {2, "RL episodes and artifacts", R"sql(
CREATE TABLE episodes (
  run_pk    INTEGER NOT NULL REFERENCES runs(run_pk),
  episode   INTEGER NOT NULL,
  reward    REAL,      -- NULL: not measured (NaN)
  length    INTEGER NOT NULL DEFAULT 0,
  blocking  REAL,
  energy    REAL,
  extra     TEXT NOT NULL DEFAULT '{}',
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (run_pk, episode)
) WITHOUT ROWID;
-- Artifact bytes live once under <artifact root>/sha256/<aa>/<hash>; this maps a run's paths
-- to them, so a policy logged by many runs is stored once.
CREATE TABLE artifacts (
  run_pk  INTEGER NOT NULL REFERENCES runs(run_pk),
  path    TEXT NOT NULL,
  sha256  TEXT NOT NULL,
  size    INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (run_pk, path)
) WITHOUT ROWID;
)sql"},
    {3, "model registry", R"sql(
CREATE TABLE registered_models (
  name              TEXT PRIMARY KEY,
  creation_time     INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE registered_model_tags (
  name  TEXT NOT NULL REFERENCES registered_models(name),
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
  name              TEXT NOT NULL REFERENCES registered_models(name),
  version           INTEGER NOT NULL,
  creation_time     INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description       TEXT NOT NULL DEFAULT '',
  user_id           TEXT NOT NULL DEFAULT '',
  current_stage     TEXT NOT NULL DEFAULT 'None',
  source            TEXT NOT NULL,
  run_id            TEXT NOT NULL DEFAULT '',
  run_link          TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT 'READY',
  status_message    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_version_tags (
  name    TEXT NOT NULL,
  version INTEGER NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
) WITHOUT ROWID;
CREATE TABLE model_aliases (
  name    TEXT NOT NULL,
  alias   TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
) WITHOUT ROWID;
)sql"},
    {4, "alias and stage audit trail", R"sql(
CREATE TABLE alias_history (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  alias        TEXT NOT NULL,
  from_version INTEGER,  -- NULL: the alias was created
  to_version   INTEGER,  -- NULL: the alias was deleted
  changed_at   INTEGER NOT NULL,
  changed_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alias_history_by_model ON alias_history(name, alias, changed_at);
CREATE TABLE stage_history (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  from_stage TEXT NOT NULL,
  to_stage   TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  changed_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stage_history_by_model ON stage_history(name, changed_at);
)sql"},
    {5, "decisions of control loops about model versions", R"sql(
CREATE TABLE model_decisions (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  version         INTEGER NOT NULL,  -- 0: about the model as a whole
  kind            TEXT NOT NULL,
  reason          TEXT NOT NULL DEFAULT '',
  figures         TEXT NOT NULL DEFAULT '{}',
  alias           TEXT NOT NULL DEFAULT '',
  from_version    INTEGER,
  to_version      INTEGER,
  idempotency_key TEXT NOT NULL DEFAULT '',
  decided_at      INTEGER NOT NULL,
  decided_by      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX model_decisions_by_model ON model_decisions(name, id);
CREATE UNIQUE INDEX model_decisions_by_key ON model_decisions(name, idempotency_key)
  WHERE idempotency_key != '';
)sql"},
};

// DDL as written above for SQLite, or translated for PostgreSQL.
std::string Ddl(const Connection& db, const std::string& sqlite_ddl) {
  return db.dialect() == Dialect::kPostgres ? PostgresDdl(sqlite_ddl) : sqlite_ddl;
}

void EnsureVersionTable(Connection& db) {
  db.Exec(Ddl(db,
              "CREATE TABLE IF NOT EXISTS schema_version ("
              " version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT "
              "NULL)"));
}

int ReadVersion(Connection& db) {
  auto st = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  st.Step();
  return static_cast<int>(st.Int64(0));
}

}  // namespace

int SchemaVersion(Connection& db) {
  if (!db.TableExists("schema_version")) return 0;
  return ReadVersion(db);
}

const std::vector<std::string>& SchemaTables() {
  static const std::vector<std::string> kTables = {
      "schema_version",       "experiments",         "experiment_tags",    "runs",
      "params",               "tags",                "latest_metrics",     "metrics",
      "episodes",             "artifacts",           "registered_models",  "registered_model_tags",
      "model_versions",       "model_version_tags",  "model_aliases",      "alias_history",
      "stage_history",        "model_decisions"};
  return kTables;
}

void Migrate(Connection& db, int target) {
  if (target < 0 || target > kLatestSchemaVersion)
    throw TrackingError(ErrorCode::kInternalError, "no schema version " + std::to_string(target) +
                                                       " (latest is " +
                                                       std::to_string(kLatestSchemaVersion) + ")");
  db.LockSchema();
  struct Unlock {
    Connection& db;
    ~Unlock() { db.UnlockSchema(); }
  } unlock{db};
  RunTransaction(db, TxMode::kWrite, [&] { EnsureVersionTable(db); });
  for (const Migration& m : kMigrations) {
    if (m.version > target) break;
    // Re-read the version inside the write transaction: another process opening the same file
    // at the same moment may have applied this migration already.
    RunTransaction(db, TxMode::kWrite, [&] {
      int current = ReadVersion(db);
      if (current > kLatestSchemaVersion)
        throw TrackingError(ErrorCode::kInternalError,
                            db.name() + " has schema version " + std::to_string(current) +
                                ", newer than this binary supports (" +
                                std::to_string(kLatestSchemaVersion) + "); upgrade eonops");
      if (current >= m.version) return;
      db.Exec(Ddl(db, m.sql));
      if (m.version == 1) {
        // MLflow clients fall back to experiment "0" when none is set.
        auto st = db.Prepare(
            "INSERT INTO experiments(experiment_id, name, artifact_location, creation_time,"
            " last_update_time) VALUES(0, 'Default', 'mlflow-artifacts:/0', ?1, ?1)");
        st.Bind(1, NowMs()).Run();
      }
      auto st = db.Prepare(
          "INSERT INTO schema_version(version, applied_at, description) VALUES(?, ?, ?)");
      st.Bind(1, m.version).Bind(2, NowMs()).Bind(3, m.description).Run();
    });
  }
  // A file from a newer binary is refused even when there was nothing to apply.
  int current = SchemaVersion(db);
  if (current > kLatestSchemaVersion)
    throw TrackingError(ErrorCode::kInternalError,
                        db.name() + " has schema version " + std::to_string(current) +
                            ", newer than this binary supports (" +
                            std::to_string(kLatestSchemaVersion) + "); upgrade eonops");
}

}  // namespace eonops::tracking
