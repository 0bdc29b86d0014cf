// Plain value types of the tracking store: experiments, runs and what is logged to them
// (metrics, params, tags, RL episodes, artifacts) and the model registry (registered models,
// versions, aliases and the audit trail of alias and stage moves).
//
// They mirror MLflow's entities so that the REST layer is a field-for-field mapping; times are
// milliseconds since the Unix epoch (`_ms`), as in MLflow.
//
//   eonops::tracking::Metric m{"reward", 12.5, /*timestamp_ms=*/NowMs(), /*step=*/3};
//   eonops::tracking::Episode e;
//   e.episode = 7; e.reward = -3.0; e.length = 200; e.blocking = 0.012; e.energy = 4.2e3;
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eonops::tracking {

// Milliseconds since the Unix epoch, wall clock.
int64_t NowMs();

enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
const char* RunStatusName(RunStatus status);  // "RUNNING", ...
std::optional<RunStatus> ParseRunStatus(std::string_view name);

// Which runs/experiments a search sees, by lifecycle stage.
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
std::optional<ViewType> ParseViewType(std::string_view name);  // "ACTIVE_ONLY", "1", ...

// MLflow's model-version stages (kept for clients that still use them; aliases replace them).
enum class Stage { kNone, kStaging, kProduction, kArchived };
const char* StageName(Stage stage);  // "None", "Staging", "Production", "Archived"
// Case-insensitive, as MLflow accepts "production" and "Production".
std::optional<Stage> ParseStage(std::string_view name);

struct Tag {
  std::string key, value;
  bool operator==(const Tag& o) const { return key == o.key && value == o.value; }
};
struct Param {
  std::string key, value;
  bool operator==(const Param& o) const { return key == o.key && value == o.value; }
};
struct Metric {
  std::string key;
  double value = 0.0;  // NaN and +-inf are kept as such
  int64_t timestamp_ms = 0;
  int64_t step = 0;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage = "active";
  int64_t creation_time_ms = 0;
  int64_t last_update_time_ms = 0;
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;  // 32 lowercase hex digits; MLflow also calls it run_uuid
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time_ms = 0;
  std::optional<int64_t> end_time_ms;
  std::string artifact_uri;
  std::string lifecycle_stage = "active";
};

struct RunData {
  std::vector<Metric> metrics;  // latest value of each key (max step, then timestamp, then value)
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct Run {
  RunInfo info;
  RunData data;
};

// One RL episode. NaN marks a field that was not measured.
struct Episode {
  int64_t episode = 0;
  double reward = std::numeric_limits<double>::quiet_NaN();
  int64_t length = 0;
  double blocking = std::numeric_limits<double>::quiet_NaN();  // blocking probability in [0, 1]
  double energy = std::numeric_limits<double>::quiet_NaN();    // joules (or the env's unit)
  std::string extra_json = "{}";  // any further per-episode values, a JSON object
  int64_t timestamp_ms = 0;       // 0: stamped by the store
};

// A bucket of consecutive episodes, for charts of long runs (see TrackingStore::SummarizeEpisodes).
struct EpisodeBucket {
  int64_t first_episode = 0, last_episode = 0, count = 0;
  double reward_mean = 0, reward_min = 0, reward_max = 0;
  double blocking_mean = 0, length_mean = 0, energy_mean = 0;
};

struct ArtifactFile {
  std::string path;  // relative to the run's artifact root, '/'-separated
  bool is_dir = false;
  int64_t file_size = 0;  // bytes; 0 for directories
  std::string sha256;     // hex; empty for directories
};

struct ModelVersion {
  std::string name;
  int64_t version = 0;  // MLflow sends it as a string ("1")
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string description;
  std::string user_id;
  Stage current_stage = Stage::kNone;
  std::string source;  // e.g. "runs:/<run_id>/policy.pt" or "mlflow-artifacts:/0/<run_id>/..."
  std::string run_id;
  std::string run_link;
  std::string status = "READY";
  std::string status_message;
  std::vector<Tag> tags;
  std::vector<std::string> aliases;
};

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the newest version in each stage
  std::vector<Tag> tags;
  std::vector<ModelAlias> aliases;
};

// One move of an alias: the audit trail of which version served when.
struct AliasEvent {
  int64_t id = 0;
  std::string name, alias;
  std::optional<int64_t> from_version;  // nullopt: the alias was created
  std::optional<int64_t> to_version;    // nullopt: the alias was deleted
  int64_t changed_at_ms = 0;
  std::string changed_by;
};

// One stage transition of a model version.
struct StageEvent {
  int64_t id = 0;
  std::string name;
  int64_t version = 0;
  Stage from_stage = Stage::kNone, to_stage = Stage::kNone;
  int64_t changed_at_ms = 0;
  std::string changed_by;
};

// A control loop's decision about a model version (the lifecycle service's challenger
// registrations, promotions, refusals, rollbacks, drift events), kept in the registry's audit
// trail with the figures it was made on. A decision may move an alias in the same transaction.
struct ModelDecision {
  int64_t id = 0;
  std::string name;
  int64_t version = 0;  // the version decided about; 0 for the model as a whole (drift)
  std::string kind;     // e.g. "challenger", "promote", "refuse", "rollback", "drift"
  std::string reason;
  std::string figures_json = "{}";  // a JSON object
  std::string alias;                // the alias moved with it ("" when none)
  std::optional<int64_t> from_version, to_version;
  std::string key;  // idempotency key ("" when none): a retried decision is recorded once
  int64_t decided_at_ms = 0;
  std::string decided_by;
};

struct RecordDecisionRequest {
  std::string name;
  int64_t version = 0;
  std::string kind, reason;
  std::string figures_json = "{}";
  std::string key;
  // Points `alias` at `version` with the decision (when non-empty) ...
  std::string alias;
  // ... only if it points at this version now (0: only if it does not exist); else the whole
  // decision is refused with RESOURCE_CONFLICT. nullopt: whatever it points at.
  std::optional<int64_t> expect_alias_version;
};

// A page of results and the opaque token for the next one ("" on the last page).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;  // e.g. "metrics.blocking < 0.1 AND params.lr = '3e-4'"
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;         // MLflow's default; at most 50,000
  std::vector<std::string> order_by;  // e.g. {"metrics.reward DESC", "start_time"}
  std::string page_token;
};

struct SearchExperimentsRequest {
  std::string filter;  // e.g. "name LIKE 'rmsa-%' AND tags.topology = 'nsfnet'"
  ViewType view = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;  // default: last_update_time DESC
  std::string page_token;
};

struct SearchModelsRequest {
  std::string filter;  // registered models: "name LIKE '%rmsa%'"; versions: "name = 'x'"
  int64_t max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

}  // namespace eonops::tracking
