// Fuzz target: MLflow's search filter and order_by language (tracking/search_filter.h), parsed
// and then run as the four searches the tracking server offers (runs, experiments, registered
// models, model versions) on a small store, so the SQL each filter turns into is executed too.
//
// Input, one part per line: the filter; then any number of order_by clauses; the last line may
// be "page_token=<token>".
//
// Properties checked on every input:
//   - parsing either works or throws TrackingError(INVALID_PARAMETER_VALUE);
//   - every search either answers or refuses with a 4xx TrackingError: a filter never becomes
//     SQL that SQLite rejects (that would be INTERNAL_ERROR, a 500), whatever its quotes,
//     backticks, keys or values.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/tracking_check.h"
#include "tracking/errors.h"
#include "tracking/search_filter.h"
#include "tracking/store.h"

namespace eonops::fuzz {
namespace {

// A store with two experiments, three runs with metrics, params and tags, and a registered
// model with two versions and an alias: every entity a filter can name exists.
struct Fixture {
  tracking::TrackingStore* store;
  std::vector<std::string> experiment_ids;
};

const Fixture& Fix() {
  static const Fixture fixture = [] {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("eonops-fuzz-search-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    static struct RemoveAtExit {
      std::filesystem::path dir;
      ~RemoveAtExit() { std::filesystem::remove_all(dir); }
    } remove_at_exit{dir};
    tracking::StoreOptions o;
    o.db_path = (dir / "store.db").string();
    o.artifact_root = (dir / "artifacts").string();
    auto* s = new tracking::TrackingStore(o);  // lives as long as the process
    std::vector<std::string> ids;
    std::string last_run;
    for (const char* exp : {"rmsa/nsfnet", "rmsa/usnet"}) {
      tracking::CreateRunOptions ro;
      ro.experiment_id = s->GetOrCreateExperiment(exp);
      ids.push_back(ro.experiment_id);
      for (int i = 0; i < 2; ++i) {
        ro.run_name = std::string("ppo-seed") + std::to_string(i);
        last_run = s->CreateRun(ro).info.run_id;
        s->LogParam(last_run, "lr", i ? "3e-4" : "1e-3");
        s->LogMetric(last_run, "blocking@load=250", 0.04 + 0.01 * i, 1);
        s->LogMetric(last_run, "reward", -1.5 * i, 2);
        s->SetTag(last_run, "mlflow.runName", ro.run_name);
        s->SetTag(last_run, "topology", exp);
      }
    }
    s->CreateRegisteredModel("deeprmsa-nsfnet");
    s->CreateModelVersion("deeprmsa-nsfnet", "runs:/" + last_run + "/policy", last_run);
    const int64_t v =
        s->CreateModelVersion("deeprmsa-nsfnet", "runs:/" + last_run + "/policy", last_run).version;
    s->SetAlias("deeprmsa-nsfnet", "champion", v, "fuzz");
    return Fixture{s, ids};
  }();
  return fixture;
}

}  // namespace
}  // namespace eonops::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace eonops;
  using namespace eonops::fuzz;
  std::string_view rest = AsText(data, size);
  const std::string filter(TakeLine(&rest));
  std::vector<std::string> order_by;
  std::string page_token;
  while (!rest.empty()) {
    const std::string_view line = TakeLine(&rest);
    if (line.rfind("page_token=", 0) == 0) {
      page_token = std::string(line.substr(11));
    } else {
      order_by.emplace_back(line);
    }
  }

  ExpectClientError([&] { tracking::ParseFilter(filter); }, "ParseFilter");
  for (const auto& o : order_by)
    ExpectClientError([&] { tracking::ParseOrderBy(o); }, "ParseOrderBy");

  // The same filter, order and page token as each of the four searches takes them.
  auto request = [&](auto r) {
    r.filter = filter;
    r.order_by = order_by;
    r.page_token = page_token;
    return r;
  };
  tracking::TrackingStore& store = *Fix().store;
  tracking::SearchRunsRequest runs = request(tracking::SearchRunsRequest{});
  runs.experiment_ids = Fix().experiment_ids;
  runs.max_results = 2;
  ExpectClientError([&] { store.SearchRuns(runs); }, "SearchRuns");
  ExpectClientError([&] { store.SearchExperiments(request(tracking::SearchExperimentsRequest{})); },
                    "SearchExperiments");
  const tracking::SearchModelsRequest models = request(tracking::SearchModelsRequest{});
  ExpectClientError([&] { store.SearchRegisteredModels(models); }, "SearchRegisteredModels");
  ExpectClientError([&] { store.SearchModelVersions(models); }, "SearchModelVersions");
  return 0;
}
