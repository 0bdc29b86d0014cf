// The /api/eonops/ endpoints: what MLflow's API lacks for RL training and the web UI —
// per-episode records, server-side downsampled histories, a one-call compare payload, and the
// audit trail of alias and stage moves.
//
// Blocking-vs-load convention (documented in tracking/README.md): a run logs the blocking
// probability of its policy at offered load L (Erlang) as metric `blocking@load=L`, and that of
// a heuristic H evaluated at the same load as `blocking@load=L/H`. `blocking_vs_load/L[/H]` is
// accepted too (MLflow's stock name rules forbid '@' and '=').
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "tracking/errors.h"
#include "tracking/server_internal.h"

namespace eonops::tracking::server_internal {
namespace {

[[noreturn]] void Invalid(const std::string& message) {
  throw TrackingError(ErrorCode::kInvalidParameterValue, message);
}

size_t MaxPoints(const RequestArgs& args) {
  int64_t n = args.OptInt64("max_points").value_or(1000);
  if (n < 2 || n > 100000) Invalid("max_points must be between 2 and 100000");
  return static_cast<size_t>(n);
}

std::vector<std::string> SplitComma(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t end = v.find(',', start);
      if (end == std::string::npos) end = v.size();
      std::string item = v.substr(start, end - start);
      if (!item.empty()) out.push_back(item);
      start = end + 1;
    }
  }
  return out;
}

}  // namespace

std::optional<LoadPoint> ParseBlockingAtLoad(const std::string& key) {
  std::string rest;
  for (const char* prefix : {"blocking@load=", "blocking_vs_load/"}) {
    std::string p(prefix);
    if (key.compare(0, p.size(), p) == 0) {
      rest = key.substr(p.size());
      break;
    }
  }
  if (rest.empty()) return std::nullopt;
  size_t slash = rest.find('/');
  std::string number = rest.substr(0, slash);
  errno = 0;
  char* end = nullptr;
  double load = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || errno || !std::isfinite(load))
    return std::nullopt;
  LoadPoint p;
  p.load = load;
  if (slash != std::string::npos) p.heuristic = rest.substr(slash + 1);
  return p;
}

namespace {

// `metric_keys`: histories returned for every run; `fallback_keys`: only for runs that logged
// no episodes (the UI's reward/blocking curves come from episodes when there are any, so it
// need not pay for histories it would not draw).
Json ComparePayload(TrackingStore& store, const std::string& run_id,
                    const std::vector<std::string>& metric_keys,
                    const std::vector<std::string>& fallback_keys, size_t max_points) {
  Run run = store.GetRun(run_id);
  Json params = Json::object(), metrics = Json::object();
  for (const auto& p : run.data.params) params[p.key] = p.value;
  // Policy and heuristic curves, each sorted by load.
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  for (const auto& m : run.data.metrics) {
    metrics[m.key] = DoubleToJson(m.value);
    if (auto lp = ParseBlockingAtLoad(m.key); lp && std::isfinite(m.value))
      curves[lp->heuristic].emplace_back(lp->load, m.value);
  }
  Json policy = Json::array(), heuristics = Json::object();
  for (auto& [name, pts] : curves) {
    std::sort(pts.begin(), pts.end());
    Json a = Json::array();
    for (const auto& [load, value] : pts) a.push_back({load, value});
    if (name.empty()) {
      policy = a;
    } else {
      heuristics[name] = a;
    }
  }
  // Episodes, bucketed: mean reward with its min/max band, mean blocking.
  const int64_t total_episodes = store.CountEpisodes(run_id);
  Json episodes = {{"total", total_episodes}};
  Json ep = Json::array(), rmean = Json::array(), rmin = Json::array(), rmax = Json::array(),
       blocking = Json::array(), energy = Json::array();
  const std::vector<EpisodeBucket> buckets = total_episodes > 0
                                                 ? store.SummarizeEpisodes(run_id, max_points)
                                                 : std::vector<EpisodeBucket>{};
  for (const EpisodeBucket& b : buckets) {
    ep.push_back(b.last_episode);
    rmean.push_back(DoubleToJson(b.reward_mean));
    rmin.push_back(DoubleToJson(b.reward_min));
    rmax.push_back(DoubleToJson(b.reward_max));
    blocking.push_back(DoubleToJson(b.blocking_mean));
    energy.push_back(DoubleToJson(b.energy_mean));
  }
  episodes["episode"] = ep;
  episodes["reward"] = rmean;
  episodes["reward_min"] = rmin;
  episodes["reward_max"] = rmax;
  episodes["blocking"] = blocking;
  episodes["energy"] = energy;
  // Metric histories the caller asked for, downsampled ([step, value] pairs).
  Json series = Json::object();
  std::vector<std::string> keys = metric_keys;
  if (total_episodes == 0) keys.insert(keys.end(), fallback_keys.begin(), fallback_keys.end());
  for (const auto& key : keys) {
    if (series.contains(key)) continue;
    Json pts = Json::array();
    for (const Metric& m : store.GetMetricHistoryDownsampled(run_id, key, max_points))
      pts.push_back({m.step, m.value});
    series[key] = pts;
  }
  return {{"run_id", run.info.run_id},
          {"run_name", run.info.run_name},
          {"experiment_id", run.info.experiment_id},
          {"status", RunStatusName(run.info.status)},
          {"start_time", run.info.start_time_ms},
          {"params", params},
          {"metrics", metrics},
          {"episodes", episodes},
          {"series", series},
          {"blocking_vs_load", {{"policy", policy}, {"heuristics", heuristics}}}};
}

}  // namespace

void AddUiApiRoutes(RouteTable& t, TrackingStore& store, UiMarks& marks) {
  auto add = [&](const char* method, const char* path, bool write, Handler h) {
    t[std::string(method) + " /api/eonops/" + path] = Route{write, std::move(h)};
  };
  add("GET", "health", false, [&store](Context&) {
    return Json{{"status", "ok"}, {"schema_version", store.SchemaVersion()}};
  });
  add("GET", "experiments/run-counts", false, [&store](Context&) {
    Json counts = Json::object();
    for (const auto& [id, n] : store.ActiveRunCounts()) counts[id] = n;
    return Json{{"run_counts", counts}};
  });
  add("POST", "runs/log-episodes", true, [&store](Context& c) {
    auto id = c.args.OptString("run_id");
    if (!id || id->empty()) Invalid("Missing value for required parameter 'run_id'.");
    const auto list = c.args.ObjectList("episodes");
    if (list.size() > Limits::kMaxEpisodesPerBatch)
      Invalid("A request can log at most " + std::to_string(Limits::kMaxEpisodesPerBatch) +
              " episodes. Got " + std::to_string(list.size()) + ".");
    std::vector<Episode> episodes;
    episodes.reserve(list.size());
    for (const Json& j : list) episodes.push_back(EpisodeFromJson(j));
    store.LogEpisodes(*id, episodes);
    return Json::object();
  });
  add("GET", "runs/episodes", false, [&store](Context& c) {
    std::string id = c.args.RequiredString("run_id");
    int64_t limit = c.args.OptInt64("max_results").value_or(10000);
    if (limit <= 0 || limit > 100000) Invalid("max_results must be between 1 and 100000");
    Json list = Json::array();
    for (const Episode& e :
         store.GetEpisodes(id, c.args.OptInt64("from_episode").value_or(0), limit))
      list.push_back(ToJson(e));
    return Json{{"episodes", list}, {"total", store.CountEpisodes(id)}};
  });
  add("GET", "runs/episode-summary", false, [&store](Context& c) {
    std::string id = c.args.RequiredString("run_id");
    Json list = Json::array();
    for (const EpisodeBucket& b : store.SummarizeEpisodes(id, MaxPoints(c.args)))
      list.push_back({{"first_episode", b.first_episode},
                      {"last_episode", b.last_episode},
                      {"count", b.count},
                      {"reward_mean", DoubleToJson(b.reward_mean)},
                      {"reward_min", DoubleToJson(b.reward_min)},
                      {"reward_max", DoubleToJson(b.reward_max)},
                      {"blocking_mean", DoubleToJson(b.blocking_mean)},
                      {"length_mean", DoubleToJson(b.length_mean)},
                      {"energy_mean", DoubleToJson(b.energy_mean)}});
    return Json{{"buckets", list}, {"total", store.CountEpisodes(id)}};
  });
  add("GET", "metrics/get-history-downsampled", false, [&store](Context& c) {
    std::string id = c.args.RequiredString("run_id");
    std::string key = c.args.RequiredString("metric_key");
    Json list = Json::array();
    for (const Metric& m : store.GetMetricHistoryDownsampled(id, key, MaxPoints(c.args)))
      list.push_back(ToJson(m));
    return Json{{"metrics", list}};
  });
  add("GET", "compare", false, [&store](Context& c) {
    auto ids = SplitComma(c.args.StringList("run_ids"));
    for (const auto& id : SplitComma(c.args.StringList("run_id"))) ids.push_back(id);
    if (ids.empty()) Invalid("Missing value for required parameter 'run_ids'.");
    if (ids.size() > 100) Invalid("compare takes at most 100 runs");
    auto keys = SplitComma(c.args.StringList("metrics"));
    auto fallback = SplitComma(c.args.StringList("fallback_metrics"));
    if (keys.size() + fallback.size() > 20) Invalid("compare takes at most 20 metric keys");
    const size_t max_points = MaxPoints(c.args);
    Json runs = Json::array();
    for (const auto& id : ids)
      runs.push_back(ComparePayload(store, id, keys, fallback, max_points));
    return Json{{"runs", runs}, {"max_points", max_points}};
  });
  add("GET", "registered-models/alias-history", false, [&store](Context& c) {
    Json list = Json::array();
    for (const AliasEvent& e : store.GetAliasHistory(c.args.RequiredString("name"),
                                                     c.args.OptString("alias").value_or("")))
      list.push_back(ToJson(e));
    return Json{{"events", list}};
  });
  add("GET", "registered-models/stage-history", false, [&store](Context& c) {
    Json list = Json::array();
    for (const StageEvent& e : store.GetStageHistory(c.args.RequiredString("name")))
      list.push_back(ToJson(e));
    return Json{{"events", list}};
  });
  // Decisions of control loops (the lifecycle service) about versions, with their figures; a
  // decision may move an alias in the same transaction (compare-and-set on expect_alias_version).
  add("POST", "registered-models/decisions", true, [&store](Context& c) {
    RecordDecisionRequest r;
    r.name = c.args.RequiredString("name");
    r.version = c.args.OptInt64("version").value_or(0);
    r.kind = c.args.RequiredString("kind");
    r.reason = c.args.OptString("reason").value_or("");
    r.key = c.args.OptString("key").value_or("");
    r.alias = c.args.OptString("alias").value_or("");
    r.expect_alias_version = c.args.OptInt64("expect_alias_version");
    if (c.args.Has("figures")) {
      const Json& f = c.args.json()["figures"];
      if (!f.is_object()) Invalid("figures must be a JSON object");
      r.figures_json = f.dump();
    }
    return Json{{"decision", ToJson(store.RecordModelDecision(r, c.actor))}};
  });
  add("GET", "registered-models/decisions", false, [&store](Context& c) {
    Json list = Json::array();
    for (const ModelDecision& d : store.GetModelDecisions(
             c.args.RequiredString("name"), c.args.OptInt64("max_results").value_or(0)))
      list.push_back(ToJson(d));
    return Json{{"decisions", list}};
  });
  // Model performance trends: the live KPI series the lifecycle service logs per served version
  // (runs of `experiment` tagged eonops.lifecycle.model = name), against wall-clock time, with the
  // alias moves and decisions that mark version changes.
  add("GET", "registered-models/trends", false, [&store](Context& c) {
    const std::string name = c.args.RequiredString("name");
    const size_t max_points = MaxPoints(c.args);
    const RegisteredModel model = store.GetRegisteredModel(name);  // 404 for an unknown model
    Json runs = Json::array();
    const std::string experiment = c.args.OptString("experiment").value_or("lifecycle");
    if (auto e = store.GetExperimentByName(experiment)) {
      SearchRunsRequest r;
      r.experiment_ids = {e->experiment_id};
      std::string quoted;
      for (char ch : name) quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
      r.filter = "tags.`eonops.lifecycle.model` = '" + quoted + "'";
      r.max_results = 1000;
      r.order_by = {"start_time ASC"};
      for (const Run& run : store.SearchRuns(r).items) {
        Json series = Json::object();
        for (const Metric& m : run.data.metrics) {
          if (m.key.rfind("kpi/", 0) != 0 && m.key.rfind("drift/", 0) != 0) continue;
          Json pts = Json::array();
          for (const Metric& p : store.GetMetricHistoryDownsampled(run.info.run_id, m.key, max_points))
            pts.push_back({p.timestamp_ms, DoubleToJson(p.value)});
          series[m.key] = pts;
        }
        Json tags = Json::object();
        for (const Tag& t : run.data.tags) tags[t.key] = t.value;
        runs.push_back({{"run_id", run.info.run_id},
                        {"run_name", run.info.run_name},
                        {"version", tags.value("eonops.lifecycle.version", "")},
                        {"use_case", tags.value("eonops.lifecycle.use_case", "")},
                        {"series", series}});
      }
    }
    Json aliases = Json::array();
    for (const AliasEvent& e : store.GetAliasHistory(name)) aliases.push_back(ToJson(e));
    Json decisions = Json::array();
    for (const ModelDecision& d : store.GetModelDecisions(name, 200)) decisions.push_back(ToJson(d));
    return Json{{"name", model.name},
                {"runs", runs},
                {"alias_events", aliases},
                {"decisions", decisions}};
  });
  add("GET", "runs/artifacts", false, [&store](Context& c) {
    Json list = Json::array();
    for (const ArtifactFile& f : store.ListAllArtifacts(c.args.RequiredString("run_id")))
      list.push_back(ToJson(f));
    return Json{{"files", list}};
  });
  // The UI reports "page drawn" here when loaded with ?mark=1; the render benchmark reads the
  // server-side times (headless Chromium's own clock is virtual under --virtual-time-budget).
  add("GET", "ui-mark", false, [&marks](Context& c) {
    marks.Add(c.args.RequiredString("name"));
    return Json::object();
  });
  add("GET", "ui-marks", false, [&marks](Context&) { return marks.ToJson(); });
}

}  // namespace eonops::tracking::server_internal
