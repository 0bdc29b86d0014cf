// Helpers shared by the store's translation units (store.cc, store_search.cc,
// store_registry.cc). Not part of the public API.
#pragma once

#include <string>
#include <vector>

#include "tracking/errors.h"
#include "tracking/search_filter.h"
#include "tracking/store.h"

namespace eonops::tracking {

template <typename Fn>
auto TrackingStore::Read(Fn&& fn) {
  std::unique_ptr<Connection> conn = Acquire();
  struct Return {
    TrackingStore* store;
    std::unique_ptr<Connection>& conn;
    ~Return() { store->Release(std::move(conn)); }
  } give_back{this, conn};
  RetryPolicy policy;
  policy.max_busy_wait_ms = options_.max_busy_wait_ms;
  Connection& db = *conn;
  return RunTransaction(
      db, TxMode::kRead, [&] { return fn(db); }, policy);
}

template <typename Fn>
auto TrackingStore::Write(Fn&& fn) {
  std::unique_ptr<Connection> conn = Acquire();
  struct Return {
    TrackingStore* store;
    std::unique_ptr<Connection>& conn;
    ~Return() { store->Release(std::move(conn)); }
  } give_back{this, conn};
  RetryPolicy policy;
  policy.max_busy_wait_ms = options_.max_busy_wait_ms;
  Connection& db = *conn;
  return RunTransaction(
      db, TxMode::kWrite, [&] { return fn(db); }, policy);
}

namespace detail {

[[noreturn]] inline void Invalid(const std::string& message) {
  throw TrackingError(ErrorCode::kInvalidParameterValue, message);
}
[[noreturn]] inline void NotFound(const std::string& message) {
  throw TrackingError(ErrorCode::kResourceDoesNotExist, message);
}

// Experiment ids are integers in the database and decimal strings in the API.
int64_t ParseExperimentId(const std::string& id);

// MLflow-compatible name checks (see store.cc for the rules).
void ValidateKey(const char* what, const std::string& key);
void ValidateParamValue(const std::string& key, const std::string& value);
void ValidateTagValue(const std::string& key, const std::string& value);
void ValidateArtifactPath(const std::string& path, bool allow_empty);

struct RunRow {
  int64_t run_pk = 0;
  int64_t experiment_id = 0;
  std::string lifecycle_stage;
};
// Looks the run up; RESOURCE_DOES_NOT_EXIST when unknown.
RunRow FindRun(Connection& db, const std::string& run_id);
// As FindRun, and INVALID_PARAMETER_VALUE unless the run is active (MLflow refuses to log to a
// deleted run).
int64_t ActiveRunPk(Connection& db, const std::string& run_id);

Experiment LoadExperiment(Connection& db, int64_t experiment_id);
// Runs with their params, tags and latest metrics, in the order of `run_pks`.
std::vector<Run> LoadRuns(Connection& db, const std::vector<int64_t>& run_pks);

// MLflow's page tokens: base64 of {"offset": N}.
std::string EncodePageToken(int64_t offset);
int64_t DecodePageToken(const std::string& token);
void CheckMaxResults(int64_t max_results, int64_t limit);

// A LIKE pattern and ILIKE via lower(), for the string comparators of the search filters.
std::string SqlStringComparison(const std::string& column, Comparator op, size_t list_size,
                                Dialect dialect);

}  // namespace detail
}  // namespace eonops::tracking
