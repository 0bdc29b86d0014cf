// Pins the crash safety of lifecycle/service.h: the service is SIGKILLed right after each step
// of a retraining attempt (and after it finished), in a child process; after each kill the
// registry is consistent (one champion, pointing at a version that has its weights; no
// duplicate versions or decisions), and a restart from the state file finishes the attempt
// exactly once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "lifecycle/contender.h"
#include "lifecycle/service.h"
#include "tests/lifecycle/lifecycle_test_util.h"

namespace eonops::lifecycle {
namespace {

namespace fs = std::filesystem;

// Runs `body` in a child process; returns its wait status. The parent stays single-threaded and
// never loads torch, so forking is safe.
int InChild(const std::function<int()>& body) {
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 3;
    try {
      code = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "child: %s\n", e.what());
    }
    fflush(nullptr);
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

tracking::StoreOptions Store(const std::string& root) {
  tracking::StoreOptions o;
  o.db_path = root + "/tracking.db";
  o.artifact_root = root + "/artifacts";
  return o;
}

// One life of the service: a PCE (services in SQLite) and the lifecycle (state in its dir),
// killed by SIGKILL right after `kill_at` when given.
int Life(const std::string& root, const std::string& kill_at) {
  tracking::TrackingStore store(Store(root));
  pce::PceSetup ps;
  ps.state_db = root + "/pce-state.db";
  ps.tracking = pce::StoreConnector(&store);
  ps.poll_registry = false;
  ps.scratch_dir = root + "/pce-scratch";
  pce::Pce pce(testing::BoundConfig(), ps);
  LifecycleSetup ls;
  ls.source = InProcessTraceSource(pce);
  ls.tracking = pce::StoreConnector(&store, "eonops-lifecycle");
  ls.state_dir = root + "/state";
  ls.threads = false;
  ls.on_step = [&](twin::UseCase, const std::string& step) {
    if (step == kill_at) raise(SIGKILL);
  };
  LifecycleConfig config = testing::SmallLifecycleConfig();
  config.retrain.on_drift = false;
  const bool first_life = !fs::exists(root + "/state/state.json");
  LifecycleService svc(config, pce.config(), std::move(ls));
  svc.Start();
  if (first_life) {  // serve traffic, then ask for a retraining
    testing::TrafficDriver drive(pce, pce.config().traffic, 17);
    drive.Run(700);
    svc.PollOnce();
    std::string why;
    if (!svc.RequestRetrain(twin::UseCase::kDeepRmsa, "", &why)) {
      fprintf(stderr, "retrain refused: %s\n", why.c_str());
      return 4;
    }
  }
  svc.RunPendingAttempt();
  return svc.Idle() ? 0 : 5;
}

std::string Tag(const tracking::ModelVersion& v, const std::string& key) {
  for (const auto& t : v.tags)
    if (t.key == key) return t.value;
  return "";
}

// The registry's invariants; "" when they hold.
std::string Check(const std::string& root, bool finished) {
  tracking::TrackingStore store(Store(root));
  if (store.IntegrityCheck() != "ok") return "integrity: " + store.IntegrityCheck();
  const tracking::ModelVersion champion = store.GetModelVersionByAlias("rmsa", "champion");
  // A champion has weights: a heuristic source, or a run holding the manifest and the weights.
  if (!pce::HeuristicSource::Parse(champion.source)) {
    bool manifest = false, weights = false;
    for (const auto& f : store.ListAllArtifacts(champion.run_id)) {
      if (!fs::exists(store.ArtifactFilePath(champion.run_id, f.path))) return "missing blob " + f.path;
      manifest |= f.path == "policy/manifest.json";
      weights |= f.path == "policy/weights.pt";
    }
    if (!manifest || !weights) return "champion v" + std::to_string(champion.version) + " has no weights";
  }
  std::map<std::string, int> per_attempt;
  tracking::SearchModelsRequest q;
  q.filter = "name = 'rmsa'";
  for (const auto& v : store.SearchModelVersions(q).items) {
    const std::string a = Tag(v, kTagAttempt);
    if (!a.empty() && ++per_attempt[a] > 1) return "attempt " + a + " registered twice";
    if (!a.empty() && v.source.rfind("runs:/", 0) == 0) {
      // Registered only once its artifacts were complete.
      bool weights = false;
      for (const auto& f : store.ListAllArtifacts(v.run_id)) weights |= f.path == "policy/weights.pt";
      if (!weights) return "v" + std::to_string(v.version) + " registered without weights";
    }
  }
  std::map<std::string, int> keys;
  std::optional<int64_t> promoted;
  for (const auto& d : store.GetModelDecisions("rmsa")) {
    if (!d.key.empty() && ++keys[d.key] > 1) return "decision " + d.key + " recorded twice";
    if (d.kind == "promote") promoted = d.version;
  }
  if (finished) {
    // Every attempt (a refused retraining may be followed by the best heuristic's) was
    // registered, made challenger and decided exactly once, and the champion is the last promoted.
    if (per_attempt.empty()) return "no attempt was registered";
    for (const auto& [attempt, n] : per_attempt) {
      if (!keys.count(attempt + ":challenger")) return "attempt " + attempt + " never became challenger";
      if (!keys.count(attempt + ":decision")) return "attempt " + attempt + " was never decided";
    }
    if (champion.version != promoted.value_or(1))
      return "champion v" + std::to_string(champion.version) + ", last promoted v" +
             std::to_string(promoted.value_or(1));
  }
  return "";
}

TEST(CrashSafety, SigkillAfterEveryStepLeavesTheRegistryConsistentAndARestartFinishes) {
  pce::testing::TempDir dir;
  const std::string base = dir / "base";
  // A DRL champion, trained and registered by a child (torch never runs in this process).
  ASSERT_EQ(InChild([&] {
              fs::create_directories(base);
              tracking::TrackingStore store(Store(base));
              const std::string p = pce::testing::TrainTinyPolicy(testing::BoundConfig(), base + "/champion", 1);
              pce::testing::RegisterPolicy(store, p, "rmsa", "champion");
              return 0;
            }),
            0);
  for (const std::string step : {"training", "trained", "logged", "registered", "challenger",
                                 "evaluated", "decided", "finished"}) {
    SCOPED_TRACE("SIGKILL after step " + step);
    const std::string root = dir / ("kill-" + step);
    fs::copy(base, root, fs::copy_options::recursive);
    const int killed = InChild([&] { return Life(root, step); });
    ASSERT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) << "status " << killed;
    EXPECT_EQ(Check(root, step == "finished"), "");
    const int resumed = InChild([&] { return Life(root, ""); });
    ASSERT_TRUE(WIFEXITED(resumed) && WEXITSTATUS(resumed) == 0) << "status " << resumed;
    EXPECT_EQ(Check(root, true), "");
  }
}

}  // namespace
}  // namespace eonops::lifecycle
