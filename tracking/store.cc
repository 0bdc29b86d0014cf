#include "tracking/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

#include "tracking/downsample.h"
#include "tracking/schema.h"
#include "tracking/sha256.h"
#include "tracking/store_internal.h"

namespace eonops::tracking {

namespace fs = std::filesystem;
using detail::Invalid;
using detail::NotFound;

// ---------------------------------------------------------------------------------------------
// Validation and lookups shared by the store's translation units.
// ---------------------------------------------------------------------------------------------
namespace detail {

int64_t ParseExperimentId(const std::string& id) {
  if (id.empty() || id.size() > 18 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
    Invalid("Invalid experiment ID: '" + id + "' (an experiment ID is a decimal integer)");
  return std::stoll(id);
}

void ValidateKey(const char* what, const std::string& key) {
  if (key.empty()) Invalid(std::string(what) + " name must not be empty");
  if (key.size() > Limits::kMaxKeyLength)
    Invalid(std::string(what) + " name '" + key.substr(0, 40) + "...' exceeds the limit of " +
            std::to_string(Limits::kMaxKeyLength) + " characters");
  // MLflow allows [/\w.\- ] (and ':'); '@', '=', ',', '+' and '%' are allowed here as well so
  // that names like "blocking@load=250" work. Names are also run-relative paths in some stores,
  // so no leading or trailing '/', no empty, "." or ".." segments.
  for (char c : key) {
    unsigned char u = static_cast<unsigned char>(c);
    bool ok = std::isalnum(u) || u >= 0x80 || std::strchr("_-. /:@=,+%", c) != nullptr;
    if (!ok || c == '\0')
      Invalid("Invalid " + std::string(what) + " name: '" + key +
              "'. Names may only contain alphanumerics, underscores (_), dashes (-), periods "
              "(.), spaces ( ), slashes (/), colons (:), '@', '=', ',', '+' and '%'.");
  }
  if (key.front() == '/' || key.back() == '/' || key.find("//") != std::string::npos)
    Invalid("Invalid " + std::string(what) + " name: '" + key + "' (not a normalized path)");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string seg = key.substr(start, end - start);
    if (seg == "." || seg == "..")
      Invalid("Invalid " + std::string(what) + " name: '" + key + "' (not a normalized path)");
    start = end + 1;
  }
}

namespace {
// Text a PostgreSQL store could not keep is refused by both engines alike.
void RejectNul(const char* what, const std::string& key, const std::string& value) {
  if (value.find('\0') != std::string::npos)
    Invalid(std::string(what) + " value for '" + key + "' contains a NUL character");
}
}  // namespace

void ValidateParamValue(const std::string& key, const std::string& value) {
  RejectNul("Param", key, value);
  if (value.size() > Limits::kMaxParamValueLength)
    Invalid("Param value for '" + key + "' had length " + std::to_string(value.size()) +
            ", which exceeded length limit of " + std::to_string(Limits::kMaxParamValueLength));
}

void ValidateTagValue(const std::string& key, const std::string& value) {
  RejectNul("Tag", key, value);
  if (value.size() > Limits::kMaxTagValueLength)
    Invalid("Tag value for '" + key + "' had length " + std::to_string(value.size()) +
            ", which exceeded length limit of " + std::to_string(Limits::kMaxTagValueLength));
}

void ValidateArtifactPath(const std::string& path, bool allow_empty) {
  if (path.empty()) {
    if (allow_empty) return;
    Invalid("artifact path must not be empty");
  }
  if (path.size() > 1024) Invalid("artifact path longer than 1024 characters");
  if (path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos)
    Invalid("Invalid artifact path: '" + path + "' (a relative path with '/' separators)");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..")
      Invalid("Invalid artifact path: '" + path + "' (empty, '.' or '..' segment)");
    start = end + 1;
  }
}

RunRow FindRun(Connection& db, const std::string& run_id) {
  if (run_id.empty()) Invalid("Missing value for required parameter 'run_id'");
  auto st =
      db.Prepare("SELECT run_pk, experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?");
  st.Bind(1, run_id);
  if (!st.Step()) NotFound("Run with id=" + run_id + " not found");
  return RunRow{st.Int64(0), st.Int64(1), st.Text(2)};
}

int64_t ActiveRunPk(Connection& db, const std::string& run_id) {
  RunRow row = FindRun(db, run_id);
  if (row.lifecycle_stage != "active")
    Invalid("The run " + run_id + " must be in the 'active' state. Current state is " +
            row.lifecycle_stage + ".");
  return row.run_pk;
}

Experiment LoadExperiment(Connection& db, int64_t experiment_id) {
  auto st = db.Prepare(
      "SELECT name, artifact_location, lifecycle_stage, creation_time, last_update_time"
      " FROM experiments WHERE experiment_id = ?");
  st.Bind(1, experiment_id);
  if (!st.Step()) NotFound("No Experiment with id=" + std::to_string(experiment_id) + " exists");
  Experiment e;
  e.experiment_id = std::to_string(experiment_id);
  e.name = st.Text(0);
  e.artifact_location = st.Text(1);
  e.lifecycle_stage = st.Text(2);
  e.creation_time_ms = st.Int64(3);
  e.last_update_time_ms = st.Int64(4);
  auto tags = db.Prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ?");
  tags.Bind(1, experiment_id);
  while (tags.Step()) e.tags.push_back({tags.Text(0), tags.Text(1)});
  return e;
}

std::vector<Run> LoadRuns(Connection& db, const std::vector<int64_t>& run_pks) {
  std::vector<Run> runs(run_pks.size());
  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < run_pks.size(); ++i) index[run_pks[i]] = i;
  // Chunks of ids inlined as integer literals (safe: they are integers) rather than one query
  // per run: a page of 10,000 runs is then 4 x 20 queries, not 40,000.
  constexpr size_t kChunk = 500;
  for (size_t lo = 0; lo < run_pks.size(); lo += kChunk) {
    std::string ids;
    for (size_t i = lo; i < std::min(run_pks.size(), lo + kChunk); ++i) {
      if (!ids.empty()) ids += ',';
      ids += std::to_string(run_pks[i]);
    }
    auto info = db.Prepare(
        "SELECT run_pk, run_uuid, experiment_id, name, user_id, status, start_time, end_time,"
        " artifact_uri, lifecycle_stage FROM runs WHERE run_pk IN (" +
            ids + ")",
        false);
    while (info.Step()) {
      RunInfo& r = runs[index.at(info.Int64(0))].info;
      r.run_id = info.Text(1);
      r.experiment_id = std::to_string(info.Int64(2));
      r.run_name = info.Text(3);
      r.user_id = info.Text(4);
      r.status = ParseRunStatus(info.Text(5)).value_or(RunStatus::kRunning);
      r.start_time_ms = info.Int64(6);
      r.end_time_ms = info.OptionalInt64(7);
      r.artifact_uri = info.Text(8);
      r.lifecycle_stage = info.Text(9);
    }
    auto params = db.Prepare(
        "SELECT run_pk, key, value FROM params WHERE run_pk IN (" + ids + ") ORDER BY run_pk, key",
        false);
    while (params.Step())
      runs[index.at(params.Int64(0))].data.params.push_back({params.Text(1), params.Text(2)});
    auto tags = db.Prepare(
        "SELECT run_pk, key, value FROM tags WHERE run_pk IN (" + ids + ") ORDER BY run_pk, key",
        false);
    while (tags.Step())
      runs[index.at(tags.Int64(0))].data.tags.push_back({tags.Text(1), tags.Text(2)});
    auto metrics = db.Prepare(
        "SELECT run_pk, key, value, is_nan, timestamp, step FROM latest_metrics"
        " WHERE run_pk IN (" +
            ids + ") ORDER BY run_pk, key",
        false);
    while (metrics.Step()) {
      Metric m;
      m.key = metrics.Text(1);
      m.value = metrics.Int64(3) ? std::nan("") : metrics.Double(2);
      m.timestamp_ms = metrics.Int64(4);
      m.step = metrics.Int64(5);
      runs[index.at(metrics.Int64(0))].data.metrics.push_back(std::move(m));
    }
  }
  return runs;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string EncodePageToken(int64_t offset) {
  std::string in = "{\"offset\": " + std::to_string(offset) + "}";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8;
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

int64_t DecodePageToken(const std::string& token) {
  if (token.empty()) return 0;
  auto bad = [&]() -> int64_t { Invalid("Invalid page token '" + token.substr(0, 64) + "'"); };
  std::string decoded;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : token) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (!p || c == '\0') return bad();
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  nlohmann::json j = nlohmann::json::parse(decoded, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("offset") ||
      !j["offset"].is_number_integer() || j["offset"].get<int64_t>() < 0)
    return bad();
  return j["offset"].get<int64_t>();
}

void CheckMaxResults(int64_t max_results, int64_t limit) {
  if (max_results <= 0 || max_results > limit)
    Invalid("Invalid value " + std::to_string(max_results) +
            " for parameter 'max_results' supplied. It must be at most " + std::to_string(limit) +
            " and positive.");
}

std::string SqlStringComparison(const std::string& column, Comparator op, size_t list_size,
                                Dialect dialect) {
  // SQLite's LIKE has no escape character unless told; PostgreSQL's is '\'. MLflow patterns
  // mean the same on both engines only without one.
  const char* escape = dialect == Dialect::kPostgres ? " ESCAPE ''" : "";
  switch (op) {
    case Comparator::kEq:
      return column + " = ?";
    case Comparator::kNe:
      return column + " != ?";
    case Comparator::kLike:
      return column + " LIKE ?" + escape;
    case Comparator::kILike:
      return "lower(" + column + ") LIKE lower(?)" + escape;
    case Comparator::kIn:
    case Comparator::kNotIn: {
      std::string marks;
      for (size_t i = 0; i < list_size; ++i) marks += i ? ",?" : "?";
      return column + (op == Comparator::kIn ? " IN (" : " NOT IN (") + marks + ")";
    }
    default:
      break;
  }
  Invalid(std::string("comparator ") + ComparatorText(op) + " is not supported for strings");
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Connection pool.
// ---------------------------------------------------------------------------------------------
namespace {

std::string NewRunId() {
  // Reseeded from the OS after a fork: a forked trainer must not repeat its parent's ids.
  thread_local pid_t seeded_for = 0;
  thread_local std::mt19937_64 rng;
  if (seeded_for != ::getpid()) {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    rng.seed(seq);
    seeded_for = ::getpid();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (4 * i)) & 15];
    id[16 + i] = kHex[(b >> (4 * i)) & 15];
  }
  return id;
}

std::string GenerateRunName() {
  static constexpr const char* kAdjectives[] = {"amber", "brisk", "calm",  "deft",  "eager",
                                                "fleet", "grand", "hardy", "keen",  "lucid",
                                                "merry", "noble", "quick", "rapid", "sleek"};
  static constexpr const char* kNouns[] = {"fiber", "laser", "prism", "lambda", "photon",
                                           "roadm", "span",  "band",  "grid",   "carrier"};
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::string(kAdjectives[rng() % std::size(kAdjectives)]) + "-" +
         kNouns[rng() % std::size(kNouns)] + "-" + std::to_string(100 + rng() % 900);
}

// A LIMIT that is no limit, spelled the same for both engines (SQLite's is -1).
constexpr int64_t kNoLimit = INT64_MAX;

// MLflow's ordering of metric values for "latest": step, then timestamp, then value.
bool NewerThan(int64_t step, int64_t ts, double value, int64_t old_step, int64_t old_ts,
               double old_value) {
  return std::tie(step, ts, value) > std::tie(old_step, old_ts, old_value);
}

void TouchExperiment(Connection& db, int64_t experiment_id) {
  auto st = db.Prepare("UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?");
  st.Bind(1, NowMs()).Bind(2, experiment_id).Run();
}

// Multi-row statements take up to this many rows: a whole MLflow batch (1000 metrics) is one
// round trip on PostgreSQL, where round trips dominate, and one statement on SQLite (at most
// 8000 bound values, within both engines' limits: 32766 and 65535).
constexpr size_t kRowsPerStatement = 1000;

// Statements of a full chunk or a few rows are kept prepared; other sizes are one-off, so the
// per-connection cache stays small.
bool CacheRows(size_t rows) { return rows == kRowsPerStatement || rows <= 8; }

// "(?,?,?),(?,?,?)" for `rows` rows of `columns` values.
std::string ValueRows(size_t columns, size_t rows) {
  std::string one = "(";
  for (size_t c = 0; c < columns; ++c) one += c ? ",?" : "?";
  one += ")";
  std::string out;
  out.reserve(rows * (one.size() + 1));
  for (size_t r = 0; r < rows; ++r) out += (r ? "," : "") + one;
  return out;
}

// Writes metrics of one run inside the caller's transaction.
void InsertMetrics(Connection& db, int64_t run_pk, const std::vector<Metric>& metrics) {
  // The newest point of each key in this batch (MLflow's order: step, timestamp, value).
  std::map<std::string, const Metric*> newest;
  for (const Metric& m : metrics) {
    const Metric*& n = newest[m.key];
    double v = std::isnan(m.value) ? 0.0 : m.value;
    if (!n || NewerThan(m.step, m.timestamp_ms, v, n->step, n->timestamp_ms,
                        std::isnan(n->value) ? 0.0 : n->value))
      n = &m;
  }
  // One upsert per chunk of keys: a new series gets its row, an existing one takes the point
  // only when it is newer; RETURNING gives every key's series id either way.
  static constexpr char kNewer[] =
      "(excluded.step, excluded.timestamp, excluded.value) >"
      " (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)";
  std::unordered_map<std::string, int64_t> series;
  std::vector<const Metric*> keys;
  for (const auto& [key, m] : newest) keys.push_back(m);
  for (size_t lo = 0; lo < keys.size(); lo += kRowsPerStatement) {
    const size_t n = std::min(kRowsPerStatement, keys.size() - lo);
    std::string sql =
        "INSERT INTO latest_metrics(run_pk, key, value, is_nan, step, timestamp) VALUES " +
        ValueRows(6, n) + " ON CONFLICT (run_pk, key) DO UPDATE SET";
    for (const char* column : {"value", "is_nan", "step", "timestamp"}) {
      sql += std::string(column[0] == 'v' ? " " : ", ") + column + " = CASE WHEN " + kNewer +
             " THEN excluded." + column + " ELSE latest_metrics." + column + " END";
    }
    sql += " RETURNING key, series_id";
    auto up = db.Prepare(sql, CacheRows(n));
    int i = 1;
    for (size_t k = lo; k < lo + n; ++k) {
      const Metric& m = *keys[k];
      const bool nan = std::isnan(m.value);
      up.Bind(i++, run_pk).Bind(i++, m.key).Bind(i++, nan ? 0.0 : m.value);
      up.Bind(i++, nan ? 1 : 0).Bind(i++, m.step).Bind(i++, m.timestamp_ms);
    }
    while (up.Step()) series[up.Text(0)] = up.Int64(1);
  }
  for (size_t lo = 0; lo < metrics.size(); lo += kRowsPerStatement) {
    const size_t n = std::min(kRowsPerStatement, metrics.size() - lo);
    auto ins = db.Prepare("INSERT INTO metrics(series_id, step, timestamp, value, is_nan) VALUES " +
                              ValueRows(5, n) + " ON CONFLICT DO NOTHING",
                          CacheRows(n));
    int i = 1;
    for (size_t k = lo; k < lo + n; ++k) {
      const Metric& m = metrics[k];
      const bool nan = std::isnan(m.value);
      ins.Bind(i++, series.at(m.key)).Bind(i++, m.step).Bind(i++, m.timestamp_ms);
      ins.Bind(i++, nan ? 0.0 : m.value).Bind(i++, nan ? 1 : 0);
    }
    ins.Run();
  }
}

void InsertParams(Connection& db, int64_t run_pk, const std::string& run_id,
                  const std::vector<Param>& params) {
  auto ins =
      db.Prepare("INSERT INTO params(run_pk, key, value) VALUES(?, ?, ?) ON CONFLICT DO NOTHING");
  for (const Param& p : params) {
    ins.Bind(1, run_pk).Bind(2, p.key).Bind(3, p.value).Run();
    ins.Reset();
    if (db.Changes() > 0) continue;
    auto old = db.Prepare("SELECT value FROM params WHERE run_pk = ? AND key = ?");
    old.Bind(1, run_pk).Bind(2, p.key);
    old.Step();
    std::string existing = old.Text(0);
    if (existing != p.value)
      Invalid("Changing param values is not allowed. Param with key='" + p.key +
              "' was already logged with value='" + existing + "' for run ID='" + run_id +
              "'. Attempted logging new value '" + p.value + "'.");
  }
}

void UpsertTag(Connection& db, int64_t run_pk, const Tag& tag) {
  auto st = db.Prepare(
      "INSERT INTO tags(run_pk, key, value) VALUES(?, ?, ?)"
      " ON CONFLICT(run_pk, key) DO UPDATE SET value = excluded.value");
  st.Bind(1, run_pk).Bind(2, tag.key).Bind(3, tag.value).Run();
  // The run's name lives in runs.name too (for search and sort); keep the two in step.
  if (tag.key == "mlflow.runName") {
    auto up = db.Prepare("UPDATE runs SET name = ? WHERE run_pk = ?");
    up.Bind(1, tag.value).Bind(2, run_pk).Run();
  }
}

void ValidateMetric(const Metric& m) { detail::ValidateKey("Metric", m.key); }

std::string NormalizeExtraJson(const std::string& extra) {
  if (extra.empty()) return "{}";
  nlohmann::json j = nlohmann::json::parse(extra, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    Invalid("episode 'extra' must be a JSON object, got: " + extra.substr(0, 80));
  return j.dump();
}

bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TrackingStore::TrackingStore(StoreOptions options)
    : options_(std::move(options)),
      dialect_(IsPostgresUrl(options_.db_path) ? Dialect::kPostgres : Dialect::kSqlite) {
  std::error_code ec;
  fs::create_directories(options_.artifact_root, ec);
  if (ec)
    throw TrackingError(
        ErrorCode::kInternalError,
        "cannot create artifact root " + options_.artifact_root + ": " + ec.message());
  options_.artifact_root = fs::absolute(options_.artifact_root).lexically_normal().string();
  auto conn = Acquire();
  Migrate(*conn);
  Release(std::move(conn));
}

TrackingStore::~TrackingStore() = default;

std::unique_ptr<Connection> TrackingStore::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  ConnectionOptions co;
  co.busy_timeout_ms = options_.busy_timeout_ms;
  return OpenDatabase(options_.db_path, co);
}

void TrackingStore::Release(std::unique_ptr<Connection> conn) {
  if (!conn) return;
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

// ---------------------------------------------------------------------------------------------
// Experiments.
// ---------------------------------------------------------------------------------------------
namespace {

void ValidateExperimentName(const std::string& name) {
  if (name.empty()) Invalid("Invalid experiment name: ''. An experiment name must not be empty.");
  if (name.size() > 500) Invalid("Experiment name longer than 500 characters");
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20)
      Invalid("Experiment name must not contain control characters");
}

int64_t InsertExperiment(Connection& db, const std::string& name,
                         const std::string& artifact_location, const std::vector<Tag>& tags) {
  auto exists = db.Prepare("SELECT 1 FROM experiments WHERE name = ?");
  exists.Bind(1, name);
  if (exists.Step())
    throw TrackingError(ErrorCode::kResourceAlreadyExists,
                        "Experiment(name=" + name + ") already exists.");
  const int64_t now = NowMs();
  auto next = db.Prepare("SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments");
  next.Step();
  const int64_t id = next.Int64(0);
  auto ins = db.Prepare(
      "INSERT INTO experiments(experiment_id, name, artifact_location, creation_time,"
      " last_update_time) VALUES(?, ?, ?, ?, ?)");
  ins.Bind(1, id).Bind(2, name);
  ins.Bind(
      3, artifact_location.empty() ? "mlflow-artifacts:/" + std::to_string(id) : artifact_location);
  ins.Bind(4, now).Bind(5, now).Run();
  auto tag = db.Prepare(
      "INSERT INTO experiment_tags(experiment_id, key, value) VALUES(?, ?, ?)"
      " ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value");
  for (const Tag& t : tags) {
    tag.Bind(1, id).Bind(2, t.key).Bind(3, t.value).Run();
    tag.Reset();
  }
  return id;
}

}  // namespace

std::string TrackingStore::CreateExperiment(const std::string& name,
                                            const std::string& artifact_location,
                                            const std::vector<Tag>& tags) {
  ValidateExperimentName(name);
  for (const Tag& t : tags) {
    detail::ValidateKey("Tag", t.key);
    detail::ValidateTagValue(t.key, t.value);
  }
  return std::to_string(
      Write([&](Connection& db) { return InsertExperiment(db, name, artifact_location, tags); }));
}

Experiment TrackingStore::GetExperiment(const std::string& experiment_id) {
  int64_t id = detail::ParseExperimentId(experiment_id);
  return Read([&](Connection& db) { return detail::LoadExperiment(db, id); });
}

std::optional<Experiment> TrackingStore::GetExperimentByName(const std::string& name) {
  return Read([&](Connection& db) -> std::optional<Experiment> {
    auto st = db.Prepare("SELECT experiment_id FROM experiments WHERE name = ?");
    st.Bind(1, name);
    if (!st.Step()) return std::nullopt;
    return detail::LoadExperiment(db, st.Int64(0));
  });
}

std::string TrackingStore::GetOrCreateExperiment(const std::string& name) {
  ValidateExperimentName(name);
  // One write transaction: the check and the insert cannot interleave with another process's.
  return std::to_string(Write([&](Connection& db) -> int64_t {
    auto st = db.Prepare("SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?");
    st.Bind(1, name);
    if (st.Step()) {
      if (st.Text(1) != "active")
        Invalid("Experiment '" + name + "' is deleted; restore it or choose another name");
      return st.Int64(0);
    }
    return InsertExperiment(db, name, "", {});
  }));
}

void TrackingStore::DeleteExperiment(const std::string& experiment_id) {
  int64_t id = detail::ParseExperimentId(experiment_id);
  if (id == 0)
    Invalid("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
  Write([&](Connection& db) {
    detail::LoadExperiment(db, id);  // RESOURCE_DOES_NOT_EXIST
    auto st = db.Prepare(
        "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ?"
        " WHERE experiment_id = ?");
    st.Bind(1, NowMs()).Bind(2, id).Run();
    auto runs = db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted' WHERE experiment_id = ?");
    runs.Bind(1, id).Run();
  });
}

void TrackingStore::RestoreExperiment(const std::string& experiment_id) {
  int64_t id = detail::ParseExperimentId(experiment_id);
  Write([&](Connection& db) {
    detail::LoadExperiment(db, id);
    auto st = db.Prepare(
        "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ?"
        " WHERE experiment_id = ?");
    st.Bind(1, NowMs()).Bind(2, id).Run();
    auto runs = db.Prepare("UPDATE runs SET lifecycle_stage = 'active' WHERE experiment_id = ?");
    runs.Bind(1, id).Run();
  });
}

void TrackingStore::RenameExperiment(const std::string& experiment_id,
                                     const std::string& new_name) {
  int64_t id = detail::ParseExperimentId(experiment_id);
  ValidateExperimentName(new_name);
  Write([&](Connection& db) {
    Experiment e = detail::LoadExperiment(db, id);
    if (e.lifecycle_stage != "active") Invalid("Cannot rename a non-active experiment.");
    auto taken = db.Prepare("SELECT 1 FROM experiments WHERE name = ? AND experiment_id != ?");
    taken.Bind(1, new_name).Bind(2, id);
    if (taken.Step())
      throw TrackingError(ErrorCode::kResourceAlreadyExists,
                          "Experiment(name=" + new_name + ") already exists.");
    auto st =
        db.Prepare("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?");
    st.Bind(1, new_name).Bind(2, NowMs()).Bind(3, id).Run();
  });
}

void TrackingStore::SetExperimentTag(const std::string& experiment_id, const std::string& key,
                                     const std::string& value) {
  int64_t id = detail::ParseExperimentId(experiment_id);
  detail::ValidateKey("Tag", key);
  detail::ValidateTagValue(key, value);
  Write([&](Connection& db) {
    Experiment e = detail::LoadExperiment(db, id);
    if (e.lifecycle_stage != "active")
      Invalid("The experiment " + experiment_id + " must be in the 'active' state.");
    auto st = db.Prepare(
        "INSERT INTO experiment_tags(experiment_id, key, value) VALUES(?, ?, ?)"
        " ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value");
    st.Bind(1, id).Bind(2, key).Bind(3, value).Run();
    TouchExperiment(db, id);
  });
}

// ---------------------------------------------------------------------------------------------
// Runs, params, tags, metrics.
// ---------------------------------------------------------------------------------------------
Run TrackingStore::CreateRun(const CreateRunOptions& options) {
  int64_t experiment_id = detail::ParseExperimentId(options.experiment_id);
  std::string run_name = options.run_name;
  for (const Tag& t : options.tags) {
    detail::ValidateKey("Tag", t.key);
    detail::ValidateTagValue(t.key, t.value);
    if (t.key == "mlflow.runName") {
      // MLflow: the run_name field and the mlflow.runName tag must agree when both are given.
      if (!run_name.empty() && run_name != t.value)
        Invalid(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
            "different values (run_name='" +
            run_name + "', mlflow.runName='" + t.value + "').");
      run_name = t.value;
    }
  }
  if (run_name.size() > 250) Invalid("run_name longer than 250 characters");
  if (run_name.empty()) run_name = GenerateRunName();
  const int64_t start = options.start_time_ms.value_or(NowMs());
  // The id is drawn outside the transaction so that a busy retry reuses it.
  const std::string run_id = NewRunId();
  int64_t run_pk = Write([&](Connection& db) {
    Experiment e = detail::LoadExperiment(db, experiment_id);
    if (e.lifecycle_stage != "active")
      Invalid("The experiment " + e.experiment_id +
              " must be in the 'active' state. Current state is " + e.lifecycle_stage + ".");
    auto st = db.Prepare(
        "INSERT INTO runs(run_uuid, experiment_id, name, user_id, status, start_time,"
        " artifact_uri) VALUES(?, ?, ?, ?, 'RUNNING', ?, ?) RETURNING run_pk");
    st.Bind(1, run_id).Bind(2, experiment_id).Bind(3, run_name).Bind(4, options.user_id);
    st.Bind(5, start).Bind(6, e.artifact_location + "/" + run_id + "/artifacts").Step();
    const int64_t pk = st.Int64(0);
    for (const Tag& t : options.tags) UpsertTag(db, pk, t);
    UpsertTag(db, pk, {"mlflow.runName", run_name});
    if (!options.user_id.empty()) {
      bool has_user = std::any_of(options.tags.begin(), options.tags.end(),
                                  [](const Tag& t) { return t.key == "mlflow.user"; });
      if (!has_user) UpsertTag(db, pk, {"mlflow.user", options.user_id});
    }
    return pk;
  });
  return Read([&](Connection& db) { return detail::LoadRuns(db, {run_pk}).front(); });
}

Run TrackingStore::GetRun(const std::string& run_id) {
  return Read([&](Connection& db) {
    return detail::LoadRuns(db, {detail::FindRun(db, run_id).run_pk}).front();
  });
}

RunInfo TrackingStore::UpdateRun(const std::string& run_id, std::optional<RunStatus> status,
                                 std::optional<int64_t> end_time_ms,
                                 std::optional<std::string> run_name) {
  if (run_name && run_name->size() > 250) Invalid("run_name longer than 250 characters");
  return Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    if (status) {
      auto st = db.Prepare("UPDATE runs SET status = ? WHERE run_pk = ?");
      st.Bind(1, RunStatusName(*status)).Bind(2, pk).Run();
    }
    if (end_time_ms) {
      auto st = db.Prepare("UPDATE runs SET end_time = ? WHERE run_pk = ?");
      st.Bind(1, *end_time_ms).Bind(2, pk).Run();
    }
    if (run_name && !run_name->empty()) UpsertTag(db, pk, {"mlflow.runName", *run_name});
    return detail::LoadRuns(db, {pk}).front().info;
  });
}

void TrackingStore::EndRun(const std::string& run_id, RunStatus status) {
  UpdateRun(run_id, status, NowMs(), std::nullopt);
}

void TrackingStore::DeleteRun(const std::string& run_id) {
  Write([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_pk = ?");
    st.Bind(1, pk).Run();
  });
}

void TrackingStore::RestoreRun(const std::string& run_id) {
  Write([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare("UPDATE runs SET lifecycle_stage = 'active' WHERE run_pk = ?");
    st.Bind(1, pk).Run();
  });
}

void TrackingStore::LogParam(const std::string& run_id, const std::string& key,
                             const std::string& value) {
  LogBatch(run_id, {}, {{key, value}}, {});
}

void TrackingStore::LogMetric(const std::string& run_id, const Metric& metric) {
  LogBatch(run_id, {metric}, {}, {});
}

void TrackingStore::LogMetric(const std::string& run_id, const std::string& key, double value,
                              int64_t step) {
  LogBatch(run_id, {{key, value, NowMs(), step}}, {}, {});
}

void TrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                             const std::vector<Param>& params, const std::vector<Tag>& tags) {
  // Limits and validation first: nothing is written unless the whole batch is acceptable.
  if (metrics.size() > Limits::kMaxMetricsPerBatch)
    Invalid("A batch logging request can contain at most " +
            std::to_string(Limits::kMaxMetricsPerBatch) + " metrics. Got " +
            std::to_string(metrics.size()) + " metrics.");
  if (params.size() > Limits::kMaxParamsPerBatch)
    Invalid("A batch logging request can contain at most " +
            std::to_string(Limits::kMaxParamsPerBatch) + " params. Got " +
            std::to_string(params.size()) + " params.");
  if (tags.size() > Limits::kMaxTagsPerBatch)
    Invalid("A batch logging request can contain at most " +
            std::to_string(Limits::kMaxTagsPerBatch) + " tags. Got " + std::to_string(tags.size()) +
            " tags.");
  const size_t total = metrics.size() + params.size() + tags.size();
  if (total > Limits::kMaxEntitiesPerBatch)
    Invalid("A batch logging request can contain at most " +
            std::to_string(Limits::kMaxEntitiesPerBatch) +
            " total metrics, params, and tags. Got " + std::to_string(total) + " total.");
  for (const Metric& m : metrics) ValidateMetric(m);
  std::map<std::string, std::string> seen_params;
  for (const Param& p : params) {
    detail::ValidateKey("Param", p.key);
    detail::ValidateParamValue(p.key, p.value);
    auto [it, fresh] = seen_params.emplace(p.key, p.value);
    if (!fresh && it->second != p.value)
      Invalid("Duplicate parameter keys have been submitted: ['" + p.key +
              "'] with different values");
  }
  for (const Tag& t : tags) {
    detail::ValidateKey("Tag", t.key);
    detail::ValidateTagValue(t.key, t.value);
  }
  Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    if (!params.empty()) InsertParams(db, pk, run_id, params);
    if (!metrics.empty()) InsertMetrics(db, pk, metrics);
    for (const Tag& t : tags) UpsertTag(db, pk, t);
  });
}

void TrackingStore::SetTag(const std::string& run_id, const std::string& key,
                           const std::string& value) {
  LogBatch(run_id, {}, {}, {{key, value}});
}

void TrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    auto st = db.Prepare("DELETE FROM tags WHERE run_pk = ? AND key = ?");
    st.Bind(1, pk).Bind(2, key).Run();
    if (db.Changes() == 0) NotFound("No tag with name: " + key + " in run with id " + run_id);
  });
}

Page<Metric> TrackingStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                             int64_t max_results, const std::string& page_token) {
  if (key.empty()) Invalid("Missing value for required parameter 'metric_key'");
  const int64_t offset = detail::DecodePageToken(page_token);
  return Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    Page<Metric> page;
    auto series = db.Prepare("SELECT series_id FROM latest_metrics WHERE run_pk = ? AND key = ?");
    series.Bind(1, pk).Bind(2, key);
    if (!series.Step()) return page;
    // One extra row tells whether another page exists.
    auto st = db.Prepare(
        "SELECT step, timestamp, value, is_nan FROM metrics WHERE series_id = ?"
        " ORDER BY step, timestamp LIMIT ? OFFSET ?");
    st.Bind(1, series.Int64(0)).Bind(2, max_results > 0 ? max_results + 1 : kNoLimit);
    st.Bind(3, offset);
    while (st.Step()) {
      Metric m;
      m.key = key;
      m.step = st.Int64(0);
      m.timestamp_ms = st.Int64(1);
      m.value = st.Int64(3) ? std::nan("") : st.Double(2);
      page.items.push_back(std::move(m));
    }
    if (max_results > 0 && static_cast<int64_t>(page.items.size()) > max_results) {
      page.items.pop_back();
      page.next_page_token = detail::EncodePageToken(offset + max_results);
    }
    return page;
  });
}

std::vector<Metric> TrackingStore::GetMetricHistoryDownsampled(const std::string& run_id,
                                                               const std::string& key,
                                                               size_t max_points) {
  std::vector<Metric> all = GetMetricHistory(run_id, key).items;
  all.erase(std::remove_if(all.begin(), all.end(),
                           [](const Metric& m) { return !std::isfinite(m.value); }),
            all.end());
  if (all.size() <= max_points) return all;
  std::vector<XY> xy(all.size());
  for (size_t i = 0; i < all.size(); ++i) xy[i] = {static_cast<double>(all[i].step), all[i].value};
  std::vector<Metric> out;
  for (size_t i : LttbIndices(xy, max_points)) out.push_back(all[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// RL episodes.
// ---------------------------------------------------------------------------------------------
void TrackingStore::LogEpisodes(const std::string& run_id, const std::vector<Episode>& episodes) {
  if (episodes.size() > Limits::kMaxEpisodesPerBatch)
    Invalid("A request can log at most " + std::to_string(Limits::kMaxEpisodesPerBatch) +
            " episodes. Got " + std::to_string(episodes.size()) + ".");
  std::vector<std::string> extras;
  extras.reserve(episodes.size());
  const int64_t now = NowMs();
  for (const Episode& e : episodes) {
    if (e.episode < 0) Invalid("episode numbers start at 0, got " + std::to_string(e.episode));
    if (e.length < 0) Invalid("episode length must be >= 0");
    if (!std::isnan(e.blocking) && !(e.blocking >= 0.0 && e.blocking <= 1.0))
      Invalid("episode blocking is a probability in [0, 1], got " + std::to_string(e.blocking));
    extras.push_back(NormalizeExtraJson(e.extra_json));
  }
  Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    for (size_t lo = 0; lo < episodes.size(); lo += kRowsPerStatement) {
      const size_t n = std::min(kRowsPerStatement, episodes.size() - lo);
      auto ins = db.Prepare(
          "INSERT INTO episodes(run_pk, episode, reward, length, blocking, energy, extra,"
          " timestamp) VALUES " +
              ValueRows(8, n) + " ON CONFLICT DO NOTHING RETURNING episode",
          CacheRows(n));
      int b = 1;
      for (size_t i = lo; i < lo + n; ++i) {
        const Episode& e = episodes[i];
        ins.Bind(b++, pk).Bind(b++, e.episode).Bind(b++, e.reward).Bind(b++, e.length);
        ins.Bind(b++, e.blocking).Bind(b++, e.energy).Bind(b++, extras[i]);
        ins.Bind(b++, e.timestamp_ms > 0 ? e.timestamp_ms : now);
      }
      std::set<int64_t> inserted;
      while (ins.Step()) inserted.insert(ins.Int64(0));
      if (inserted.size() == n) continue;
      // Some were there already: a retried request is fine, a conflicting one is refused.
      auto old = db.Prepare(
          "SELECT reward, length, blocking, energy, extra FROM episodes"
          " WHERE run_pk = ? AND episode = ?");
      for (size_t i = lo; i < lo + n; ++i) {
        const Episode& e = episodes[i];
        if (inserted.erase(e.episode)) continue;
        old.Bind(1, pk).Bind(2, e.episode);
        old.Step();
        if (!SameDouble(old.Double(0), e.reward) || old.Int64(1) != e.length ||
            !SameDouble(old.Double(2), e.blocking) || !SameDouble(old.Double(3), e.energy) ||
            old.Text(4) != extras[i])
          Invalid("Episode " + std::to_string(e.episode) + " of run " + run_id +
                  " was already logged with different values");
        old.Reset();
      }
    }
  });
}

std::vector<Episode> TrackingStore::GetEpisodes(const std::string& run_id, int64_t from_episode,
                                                int64_t limit) {
  return Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare(
        "SELECT episode, reward, length, blocking, energy, extra, timestamp FROM episodes"
        " WHERE run_pk = ? AND episode >= ? ORDER BY episode LIMIT ?");
    st.Bind(1, pk).Bind(2, from_episode).Bind(3, limit > 0 ? limit : kNoLimit);
    std::vector<Episode> out;
    while (st.Step()) {
      Episode e;
      e.episode = st.Int64(0);
      e.reward = st.Double(1);
      e.length = st.Int64(2);
      e.blocking = st.Double(3);
      e.energy = st.Double(4);
      e.extra_json = st.Text(5);
      e.timestamp_ms = st.Int64(6);
      out.push_back(std::move(e));
    }
    return out;
  });
}

int64_t TrackingStore::CountEpisodes(const std::string& run_id) {
  return Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare("SELECT COUNT(*) FROM episodes WHERE run_pk = ?");
    st.Bind(1, pk).Step();
    return st.Int64(0);
  });
}

std::vector<EpisodeBucket> TrackingStore::SummarizeEpisodes(const std::string& run_id,
                                                            size_t max_buckets) {
  if (max_buckets == 0) Invalid("max_points must be positive");
  return Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto count = db.Prepare("SELECT COUNT(*) FROM episodes WHERE run_pk = ?");
    count.Bind(1, pk).Step();
    const int64_t n = count.Int64(0);
    std::vector<EpisodeBucket> out;
    if (n == 0) return out;
    const int64_t buckets = std::min<int64_t>(n, static_cast<int64_t>(max_buckets));
    out.resize(static_cast<size_t>(buckets));
    // One ordered pass over the primary key: episode of rank r goes to bucket r * B / n (equal
    // counts, consecutive episodes). Cheaper than SQL window functions, which buffer all rows
    // and sort the groups.
    struct Sums {
      double reward = 0, blocking = 0, length = 0, energy = 0;
      int64_t reward_n = 0, blocking_n = 0, energy_n = 0;
    };
    std::vector<Sums> sums(out.size());
    auto st = db.Prepare(
        "SELECT episode, reward, length, blocking, energy FROM episodes WHERE run_pk = ?"
        " ORDER BY episode");
    st.Bind(1, pk);
    const double nan = std::nan("");
    for (int64_t rank = 0; st.Step(); ++rank) {
      const size_t b = static_cast<size_t>(rank * buckets / n);
      EpisodeBucket& e = out[b];
      Sums& sum = sums[b];
      const int64_t episode = st.Int64(0);
      const double reward = st.Double(1), blocking = st.Double(3), energy = st.Double(4);
      if (e.count == 0) {
        e.first_episode = episode;
        e.reward_min = nan;
        e.reward_max = nan;
      }
      e.last_episode = episode;
      ++e.count;
      sum.length += static_cast<double>(st.Int64(2));
      if (!std::isnan(reward)) {
        sum.reward += reward;
        ++sum.reward_n;
        e.reward_min = std::isnan(e.reward_min) ? reward : std::min(e.reward_min, reward);
        e.reward_max = std::isnan(e.reward_max) ? reward : std::max(e.reward_max, reward);
      }
      if (!std::isnan(blocking)) {
        sum.blocking += blocking;
        ++sum.blocking_n;
      }
      if (!std::isnan(energy)) {
        sum.energy += energy;
        ++sum.energy_n;
      }
    }
    for (size_t b = 0; b < out.size(); ++b) {
      EpisodeBucket& e = out[b];
      const Sums& sum = sums[b];
      e.reward_mean = sum.reward_n ? sum.reward / static_cast<double>(sum.reward_n) : nan;
      e.blocking_mean = sum.blocking_n ? sum.blocking / static_cast<double>(sum.blocking_n) : nan;
      e.energy_mean = sum.energy_n ? sum.energy / static_cast<double>(sum.energy_n) : nan;
      e.length_mean = e.count ? sum.length / static_cast<double>(e.count) : nan;
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Artifacts: bytes stored once per content hash, rows map run paths to hashes.
// ---------------------------------------------------------------------------------------------
std::string ArtifactBlobPath(const std::string& artifact_root, const std::string& sha256) {
  return artifact_root + "/sha256/" + sha256.substr(0, 2) + "/" + sha256;
}

std::string TrackingStore::BlobPath(const std::string& sha256) const {
  return ArtifactBlobPath(options_.artifact_root, sha256);
}

std::string TrackingStore::StoreBlob(const std::string& source_file, std::string* sha256,
                                     int64_t* size) {
  // Copy to a temporary file while hashing, fsync, then rename into place: a crash leaves at
  // worst a stray temporary, never a truncated blob under a valid hash.
  fs::path tmp_dir = fs::path(options_.artifact_root) / "tmp";
  fs::create_directories(tmp_dir);
  std::string tmp = (tmp_dir / ("upload-" + NewRunId())).string();
  std::ifstream in(source_file, std::ios::binary);
  if (!in) Invalid("cannot read artifact file " + source_file + ": " + std::strerror(errno));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    throw TrackingError(ErrorCode::kInternalError,
                        "cannot create " + tmp + ": " + std::strerror(errno));
  Sha256 hash;
  int64_t total = 0;
  char buf[1 << 16];
  bool ok = true;
  while (ok && in) {
    in.read(buf, sizeof buf);
    std::streamsize n = in.gcount();
    hash.Update(buf, static_cast<size_t>(n));
    total += n;
    for (std::streamsize off = 0; off < n;) {
      ssize_t w = ::write(fd, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = false;
        break;
      }
      off += w;
    }
  }
  ok = ok && !in.bad() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    fs::remove(tmp);
    throw TrackingError(ErrorCode::kInternalError, "failed to store artifact " + source_file);
  }
  *sha256 = hash.HexDigest();
  *size = total;
  std::string dest = BlobPath(*sha256);
  fs::create_directories(fs::path(dest).parent_path());
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    fs::remove(tmp, ec);  // same content already stored
  } else {
    fs::rename(tmp, dest, ec);
    if (ec) {
      fs::remove(tmp);
      throw TrackingError(ErrorCode::kInternalError,
                          "cannot move artifact into place: " + ec.message());
    }
  }
  return dest;
}

ArtifactFile TrackingStore::LogArtifact(const std::string& run_id, const std::string& local_file,
                                        const std::string& artifact_dir) {
  detail::ValidateArtifactPath(artifact_dir, /*allow_empty=*/true);
  std::error_code ec;
  if (!fs::is_regular_file(local_file, ec))
    Invalid("artifact source " + local_file + " is not a readable regular file");
  const std::string name = fs::path(local_file).filename().string();
  const std::string path = artifact_dir.empty() ? name : artifact_dir + "/" + name;
  detail::ValidateArtifactPath(path, false);
  // Fail fast on an unknown or deleted run before copying bytes around.
  Read([&](Connection& db) { return detail::ActiveRunPk(db, run_id); });
  ArtifactFile file;
  file.path = path;
  StoreBlob(local_file, &file.sha256, &file.file_size);
  Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    auto st = db.Prepare(
        "INSERT INTO artifacts(run_pk, path, sha256, size, created) VALUES(?, ?, ?, ?, ?)"
        " ON CONFLICT (run_pk, path) DO UPDATE SET sha256 = excluded.sha256,"
        " size = excluded.size, created = excluded.created");
    st.Bind(1, pk).Bind(2, path).Bind(3, file.sha256).Bind(4, file.file_size).Bind(5, NowMs());
    st.Run();
  });
  return file;
}

ArtifactFile TrackingStore::LogArtifactBytes(const std::string& run_id, const std::string& path,
                                             const std::string& bytes) {
  detail::ValidateArtifactPath(path, false);
  Read([&](Connection& db) { return detail::ActiveRunPk(db, run_id); });
  fs::path tmp_dir = fs::path(options_.artifact_root) / "tmp";
  fs::create_directories(tmp_dir);
  const std::string staging = (tmp_dir / ("bytes-" + NewRunId())).string();
  {
    std::ofstream out(staging, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      fs::remove(staging);
      throw TrackingError(ErrorCode::kInternalError, "cannot write " + staging);
    }
  }
  ArtifactFile file;
  file.path = path;
  try {
    StoreBlob(staging, &file.sha256, &file.file_size);
  } catch (...) {
    fs::remove(staging);
    throw;
  }
  fs::remove(staging);
  Write([&](Connection& db) {
    int64_t pk = detail::ActiveRunPk(db, run_id);
    auto st = db.Prepare(
        "INSERT INTO artifacts(run_pk, path, sha256, size, created) VALUES(?, ?, ?, ?, ?)"
        " ON CONFLICT (run_pk, path) DO UPDATE SET sha256 = excluded.sha256,"
        " size = excluded.size, created = excluded.created");
    st.Bind(1, pk).Bind(2, path).Bind(3, file.sha256).Bind(4, file.file_size).Bind(5, NowMs());
    st.Run();
  });
  return file;
}

std::vector<ArtifactFile> TrackingStore::ListAllArtifacts(const std::string& run_id) {
  return Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare("SELECT path, sha256, size FROM artifacts WHERE run_pk = ? ORDER BY path");
    st.Bind(1, pk);
    std::vector<ArtifactFile> out;
    while (st.Step()) {
      ArtifactFile f;
      f.path = st.Text(0);
      f.sha256 = st.Text(1);
      f.file_size = st.Int64(2);
      out.push_back(std::move(f));
    }
    return out;
  });
}

std::vector<ArtifactFile> TrackingStore::ListArtifacts(const std::string& run_id,
                                                       const std::string& path) {
  std::string dir = path;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  detail::ValidateArtifactPath(dir, /*allow_empty=*/true);
  const std::string prefix = dir.empty() ? "" : dir + "/";
  std::map<std::string, ArtifactFile> children;
  for (ArtifactFile& f : ListAllArtifacts(run_id)) {
    if (f.path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = f.path.substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      children[f.path] = std::move(f);
    } else {
      ArtifactFile d;
      d.path = prefix + rest.substr(0, slash);
      d.is_dir = true;
      children.emplace(d.path, d);
    }
  }
  std::vector<ArtifactFile> out;
  for (auto& [p, f] : children)
    if (f.is_dir) out.push_back(f);
  for (auto& [p, f] : children)
    if (!f.is_dir) out.push_back(f);
  return out;
}

std::string TrackingStore::ArtifactFilePath(const std::string& run_id, const std::string& path,
                                            ArtifactFile* info) {
  detail::ValidateArtifactPath(path, false);
  ArtifactFile f = Read([&](Connection& db) {
    int64_t pk = detail::FindRun(db, run_id).run_pk;
    auto st = db.Prepare("SELECT sha256, size FROM artifacts WHERE run_pk = ? AND path = ?");
    st.Bind(1, pk).Bind(2, path);
    if (!st.Step()) NotFound("Artifact '" + path + "' of run " + run_id + " not found");
    ArtifactFile a;
    a.path = path;
    a.sha256 = st.Text(0);
    a.file_size = st.Int64(1);
    return a;
  });
  std::string blob = BlobPath(f.sha256);
  std::error_code ec;
  if (!fs::exists(blob, ec))
    throw TrackingError(ErrorCode::kInternalError,
                        "artifact '" + path + "' is recorded but its content " + f.sha256 +
                            " is missing from " + options_.artifact_root);
  if (info) *info = f;
  return blob;
}

std::string TrackingStore::ReadArtifact(const std::string& run_id, const std::string& path) {
  std::string blob = ArtifactFilePath(run_id, path);
  std::ifstream in(blob, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Maintenance.
// ---------------------------------------------------------------------------------------------
std::map<std::string, int64_t> TrackingStore::ActiveRunCounts() {
  return Read([&](Connection& db) {
    auto st = db.Prepare(
        "SELECT experiment_id, COUNT(*) FROM runs WHERE lifecycle_stage = 'active'"
        " GROUP BY experiment_id");
    std::map<std::string, int64_t> counts;
    while (st.Step()) counts[std::to_string(st.Int64(0))] = st.Int64(1);
    return counts;
  });
}

int TrackingStore::SchemaVersion() {
  return Read([&](Connection& db) { return tracking::SchemaVersion(db); });
}

std::string TrackingStore::IntegrityCheck() {
  return Read([&](Connection& db) { return db.IntegrityCheck(); });
}

}  // namespace eonops::tracking
