// The path computation element: decides lightpaths for requests on the live network state,
// keeps the services it provisioned and the paths it computed, and serves the DRL policy the
// tracking registry marks as champion.
//
// A request is decided in steps, each a function of pce/decide.cc (PathDecision says which
// branch was taken):
//   1. Admit: a request with no capacity gets the config's default bit rate; a capacity in GHz
//      asks for that much spectrum (RSA: the width is given, no format is chosen); checked;
//      a bidirectional request is two legs, A->Z and Z->A;
//   2. Constrain: the candidate paths, the model's k unless topology constraints filter the
//      twin's Yen; for a symmetric pair, the routes whose reverse exists, carrying its fibres;
//   3. AskPolicy: the use case's served policy, if any, sees the observation the twin's
//      environments build (twin::BuildObservation, the one shared function) and picks an
//      action among the feasible ones (constraints and pairing mask the rest); a served
//      heuristic version decides on the state directly;
//   4. Place: its answer is validated on the current state (pce/validation.h: spectrum free on
//      every fibre, latency within the bound, actual-occupancy GSNR >= threshold + margin);
//   5. FallBack: when there is no policy, when it can only reject, or when its answer fails
//      validation, the configured heuristic decides among the same candidates
//      (twin::Heuristic::Decide / DecideAmong; fell_back = true, with the reason), validated
//      too; a request nothing feasible serves is refused with a cause, both legs or neither;
//   6. Commit: the service and every leg in one SQLite transaction, then lit;
//   7. Log: the decision log and the metrics.
//
// Concurrency: policy inference runs without any lock on a consistent snapshot read under a
// shared lock; validation and commit take the exclusive lock, so a slot is never booked twice.
// Provisioning writes to SQLite (StateStore) before the in-memory state changes.
//
//   Pce pce(PceConfig::Load("configs/pce.json"), setup);
//   Result<Service> s = pce.CreateService(spec);      // refused: s.error
//   PathDecision d = pce.ComputePath(request);        // decides without provisioning (A->Z)
//   pce.DeleteService(uuid);
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pce/config.h"
#include "pce/decision_log.h"
#include "pce/metrics.h"
#include "pce/request.h"
#include "pce/served_policy.h"
#include "pce/service_trace.h"
#include "pce/state_store.h"
#include "pce/ted.h"
#include "pce/tracking_backend.h"
#include "pce/validation.h"
#include "twin/heuristics.h"
#include "twin/network.h"

namespace eonops::pce {

struct PceSetup {
  // SQLite file for services and computed paths; empty: state lives in memory only.
  std::string state_db;
  // Where policies come from and decisions go; empty: no registry, no decision log.
  TrackingConnector tracking;
  // Scratch directory for downloaded policy artifacts; empty: a fresh one under the temp dir.
  std::string scratch_dir;
  // Start the registry poller thread (tests may poll by hand with RefreshPolicies()).
  bool poll_registry = true;
};

// What went wrong with a request that is not a "no feasible lightpath" answer.
enum class ErrorKind { kNone, kInvalid, kNotFound, kExists, kBlocked, kInternal };

template <typename T>
struct Result {
  std::optional<T> value;
  ErrorKind error = ErrorKind::kNone;
  std::string message;
  PathDecision decision;  // for kBlocked: the refusal with its cause
  bool ok() const { return value.has_value(); }
};

// What a client asks to provision.
struct ServiceSpec {
  std::string uuid;  // empty: the PCE picks one
  nlohmann::json name = nlohmann::json::array();
  PathRequest request;
};

struct PolicyStatus {
  twin::UseCase use_case = twin::UseCase::kDeepRmsa;
  PolicyBinding binding;
  std::optional<PolicyRef> served;
  std::string note, last_error;
  int64_t loaded_at_ms = 0;
  double load_ms = 0.0;
};

// Per fibre and band, a copy of the occupancy bitset (bit = slot occupied).
struct OccupancySnapshot {
  int num_fibres = 0;
  std::vector<int> band_slots;
  std::vector<std::vector<uint64_t>> words;  // [fibre * bands + band]
  bool Occupied(int fibre, int band, int slot) const {
    return (words[static_cast<size_t>(fibre) * band_slots.size() + band][slot >> 6] >>
            (slot & 63)) &
           1u;
  }
};

class Pce {
 public:
  Pce(PceConfig config, PceSetup setup = {});
  ~Pce();
  Pce(const Pce&) = delete;
  Pce& operator=(const Pce&) = delete;

  const PceConfig& config() const { return config_; }
  const TeDatabase& ted() const { return ted_; }
  const twin::NetworkModel& model() const { return *model_; }
  Metrics& metrics() { return metrics_; }

  // Decides without provisioning. Invalid requests come back as infeasible with cause kNoPath
  // and the reason; callers that need to tell them apart run PathRequest::Check first.
  PathDecision ComputePath(const PathRequest& request);
  // Computes and, when feasible, keeps the result in the path-computation context.
  Result<ComputedPath> ComputeAndStorePath(const PathRequest& request,
                                           const nlohmann::json& name = nlohmann::json::array());
  // Recomputes a kept path with its request (optionally replaced) and updates it in place.
  Result<ComputedPath> OptimizePath(const std::string& uuid,
                                    const std::optional<PathRequest>& request);
  std::optional<ComputedPath> GetComputedPath(
      const std::string& uuid) const;  // path or path-comp-service uuid
  std::vector<ComputedPath> ListComputedPaths() const;
  std::optional<ComputedPath> DeleteComputedPath(const std::string& uuid);

  Result<Service> CreateService(const ServiceSpec& spec);
  // `r` with the config's default bit rate when it asks for no capacity (capacity_defaulted).
  PathRequest WithDefaults(PathRequest r) const;
  std::optional<Service> DeleteService(const std::string& uuid);
  std::optional<Service> GetService(const std::string& uuid) const;
  std::vector<Service> ListServices() const;  // creation order

  OccupancySnapshot Occupancy() const;
  // The occupancy and the services as of one instant (one lock), for replies that show both.
  struct StateView {
    OccupancySnapshot occupancy;
    std::vector<Service> services;  // creation order
  };
  StateView View() const;
  // "" when the spectrum, the lit lightpaths and the service table agree.
  std::string CheckInvariants() const;
  double PowerW() const;

  // Policies: the status per bound use case; RefreshPolicies polls the registry once, now.
  std::vector<PolicyStatus> Policies() const;
  void RefreshPolicies();
  // Serves a policy artifact directory for `use_case` without a registry (CLI --policy-dir,
  // benchmarks), and from then on ignores the registry for that use case. Throws when it does
  // not fit this network.
  void ServePolicyDir(twin::UseCase use_case, const std::string& dir);
  // Serves an already loaded policy (e.g. a remote policy service's client) for `use_case`,
  // pinned like a directory; `label` names it in replies and metrics ("grpc://host:port").
  void ServePolicy(twin::UseCase use_case, std::unique_ptr<agents::Policy> policy,
                   const std::string& label);
  std::shared_ptr<const ServedPolicy> ServedFor(twin::UseCase use_case) const;

  // Gauges for /metrics.
  Metrics::Gauges CurrentGauges() const;
  std::string RenderMetrics() const { return metrics_.Render(CurrentGauges()); }
  // The decision log (null when disabled or no tracking is configured).
  DecisionLog* decision_log() { return decision_log_.get(); }
  // Every provisioning request and release, for the lifecycle service (KPIs, drift, replay),
  // and the live services to start reading it from.
  const ServiceTrace& trace() const { return trace_; }
  TraceSnapshot Snapshot() const;

 private:
  // Publishes a policy for `use_case` and keeps the registry poller away from it.
  void Pin(twin::UseCase use_case, std::shared_ptr<const ServedPolicy> served);

  struct LiveService {
    Service service;
    // What is lit for it: one lightpath per direction (A->Z, then Z->A when bidirectional).
    struct Lit {
      std::unique_ptr<twin::Path> path;  // the lightpath points here
      int32_t lightpath_id = -1;
    };
    std::vector<Lit> lit;
  };
  struct Proposal;  // one direction's lightpath before it is committed (pce/decide.cc)
  struct Leg;       // one direction of a request on its way through the steps
  struct Job;       // a request on its way through the steps

  // What Decide found: the A->Z decision (or the refusal), the Z->A one of a bidirectional
  // request, and, when provisioning, the service made or why not.
  struct Outcome {
    PathDecision decision;
    std::optional<PathDecision> reverse;
    bool duplicate = false;  // the service uuid is taken
    std::optional<Service> created;
  };
  // Decides `request` by the steps below; with `spec`, provisions it as that service.
  Outcome Decide(const PathRequest& request, const ServiceSpec* spec);
  // The steps (pce/decide.cc), in order; each records in the job why it gave up.
  Job Admit(const PathRequest& request);       // 1. defaults, checks, twin requests
  void Constrain(Job& job) const;              // 2. candidate paths: constraints, pairing
  void AskPolicy(Job& job) const;              // 3. the served policy, on a snapshot
  void Place(Job& job) const;                  // 4-5. validate it, else fall back
  void PlaceLeg(Job& job, Leg& leg) const;     //      one direction
  void PlacePair(Job& job) const;              //      both, on the same slots
  void PlaceExplicitSpectrum(Leg& leg) const;  //      the media channel the client named
  void FallBack(Leg& leg) const;               //      the configured heuristic
  void Describe(Job& job) const;               //    the decisions, in the client's terms
  void Commit(Job& job, const ServiceSpec& spec, Service* created);  // 6. provision
  std::optional<Proposal> PairedWith(const Job& job, const twin::Candidate& forward, int slot,
                                     Check* failed) const;
  void Relight(Service s);
  void PollLoop();
  void PollOnce();
  // Serves the binding's default_policy (loaded at construction); `why` goes in its status note.
  void PublishDefault(const PolicyBinding& b, const std::string& why);
  PolicySlot& SlotFor(twin::UseCase u);
  const twin::Heuristic& FallbackFor(twin::UseCase u) const;
  // 7. the decision log and metrics: one record per direction decided, or the refusal.
  void Log(const std::string& operation, const std::string& uuid, const PathRequest& r,
           const Outcome& o);
  void EvictComputedPathsLocked();
  void IndexPathLocked(const ComputedPath& p);  // paths_mutex_ held
  void UnindexPathLocked(const ComputedPath& p);
  std::unordered_map<std::string, ComputedPath>::iterator FindPathLocked(const std::string& uuid);
  OccupancySnapshot OccupancyLocked() const;  // state_mutex_ held

  PceConfig config_;
  PceSetup setup_;
  std::shared_ptr<const twin::NetworkModel> model_;
  TeDatabase ted_;
  Metrics metrics_;
  std::map<twin::UseCase, std::unique_ptr<twin::Heuristic>> fallbacks_;
  std::map<twin::UseCase, PolicySlot> slots_;
  // The bindings' default_policy artifacts, loaded and checked once (pce.policies[].default_policy).
  std::map<twin::UseCase, std::shared_ptr<const ServedPolicy>> default_policies_;

  // Network state and services: shared for reads, exclusive to change.
  mutable std::shared_mutex state_mutex_;
  twin::NetworkState state_;
  std::unordered_map<std::string, std::unique_ptr<LiveService>> services_;
  std::atomic<int64_t> next_seq_{1};
  std::atomic<int64_t> next_request_id_{1};

  mutable std::mutex paths_mutex_;
  std::unordered_map<std::string, ComputedPath> paths_;  // by path uuid
  std::unordered_map<std::string, std::string>
      path_by_service_;                         // path-comp-service and Z->A path uuids -> path
  std::map<int64_t, std::string> path_by_seq_;  // oldest first, for eviction

  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DecisionLog> decision_log_;
  ServiceTrace trace_;

  // Registry polling.
  mutable std::mutex policy_mutex_;
  std::map<twin::UseCase, PolicyStatus> policy_status_;
  std::map<twin::UseCase, std::pair<int64_t, int64_t>>
      failed_version_;              // version, retry after (ms)
  std::set<twin::UseCase> pinned_;  // served from a directory: the registry does not apply
  std::mutex refresh_mutex_;        // one registry poll at a time (the backend is single-threaded)
  std::atomic<int64_t> fetch_counter_{0};
  std::unique_ptr<TrackingBackend> registry_;
  std::string ScratchDir();  // refresh_mutex_ held
  std::string scratch_dir_;
  bool owns_scratch_ = false;
  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool stop_ = false;
  std::thread poller_;
};

}  // namespace eonops::pce
