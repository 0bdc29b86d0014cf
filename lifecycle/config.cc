#include "lifecycle/config.h"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "twin/envs.h"
#include "twin/heuristics.h"
#include "twin/json_util.h"
#include "twin/topology.h"

namespace eonops::lifecycle {

namespace {

using Json = nlohmann::json;

[[noreturn]] void Fail(const std::string& where, const std::string& why) {
  throw std::runtime_error(where + ": " + why);
}

void OnlyKeys(const Json& j, const std::set<std::string>& keys, const std::string& where) {
  if (!j.is_object()) Fail(where, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key().rfind('_', 0) == 0) continue;  // _comment, _source
    if (!keys.count(it.key())) {
      std::string known;
      for (const auto& k : keys) known += (known.empty() ? "" : ", ") + k;
      Fail(where + "." + it.key(), "unknown key (known: " + known + ")");
    }
  }
}

// Reads j[key] into `out` when present, checking type and range.
class Reader {
 public:
  Reader(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}

  void Number(const char* key, double* out, double lo, double hi, bool lo_open = false) {
    if (!j_.contains(key)) return;
    const Json& v = j_[key];
    const std::string w = where_ + "." + key;
    if (!v.is_number()) Fail(w, "expected a number, got " + v.dump());
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
      Fail(w, "must be in " + std::string(lo_open ? "(" : "[") + Fmt(lo) + ", " + Fmt(hi) +
                  "], got " + v.dump());
    *out = x;
  }
  template <typename Int>
  void Integer(const char* key, Int* out, int64_t lo, int64_t hi) {
    if (!j_.contains(key)) return;
    const Json& v = j_[key];
    const std::string w = where_ + "." + key;
    if (!v.is_number_integer()) Fail(w, "expected an integer, got " + v.dump());
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
      Fail(w, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.dump());
    *out = static_cast<Int>(x);
  }
  void Bool(const char* key, bool* out) {
    if (!j_.contains(key)) return;
    if (!j_[key].is_boolean()) Fail(where_ + "." + key, "expected true or false");
    *out = j_[key].get<bool>();
  }
  void String(const char* key, std::string* out, bool allow_empty = false) {
    if (!j_.contains(key)) return;
    const Json& v = j_[key];
    if (!v.is_string() || (!allow_empty && v.get<std::string>().empty()))
      Fail(where_ + "." + key, "expected a non-empty string");
    *out = v.get<std::string>();
  }
  void Strings(const char* key, std::vector<std::string>* out) {
    if (!j_.contains(key)) return;
    const Json& v = j_[key];
    if (!v.is_array()) Fail(where_ + "." + key, "expected an array of strings");
    out->clear();
    for (const auto& x : v) {
      if (!x.is_string() || x.get<std::string>().empty())
        Fail(where_ + "." + key, "expected an array of non-empty strings");
      out->push_back(x.get<std::string>());
    }
  }

 private:
  static std::string Fmt(double x) {
    if (x == std::numeric_limits<double>::max()) return "inf";
    std::string s = std::to_string(x);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const Json& j_;
  std::string where_;
};

constexpr double kBig = std::numeric_limits<double>::max();

}  // namespace

LifecycleConfig LifecycleConfig::Load(const std::string& path) {
  Json j;
  try {
    j = twin::ReadJsonFile(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what());
  }
  return FromJson(j, path);
}

LifecycleConfig LifecycleConfig::FromJson(const Json& j, const std::string& origin) {
  LifecycleConfig c;
  c.origin = origin;
  OnlyKeys(j,
           {"pce_config", "use_cases", "poll_ms", "registry_poll_ms", "kpi", "drift", "retrain",
            "gate", "rollback"},
           origin);
  Reader top(j, origin);
  top.String("pce_config", &c.pce_config);
  top.Strings("use_cases", &c.use_cases);
  for (size_t i = 0; i < c.use_cases.size(); ++i) {
    try {
      twin::ParseUseCase(c.use_cases[i]);
    } catch (const std::invalid_argument& e) {
      Fail(origin + ".use_cases[" + std::to_string(i) + "]", e.what());
    }
  }
  top.Integer("poll_ms", &c.poll_ms, 10, 10000);
  top.Integer("registry_poll_ms", &c.registry_poll_ms, 10, 10000);

  if (j.contains("kpi")) {
    const std::string w = origin + ".kpi";
    OnlyKeys(j["kpi"], {"window_requests", "log_interval_ms", "experiment"}, w);
    Reader r(j["kpi"], w);
    r.Integer("window_requests", &c.kpi.window_requests, 10, 1000000);
    r.Integer("log_interval_ms", &c.kpi.log_interval_ms, 50, 3600000);
    r.String("experiment", &c.kpi.experiment);
  }
  if (j.contains("drift")) {
    const std::string w = origin + ".drift";
    OnlyKeys(j["drift"],
             {"window_requests", "js_pairs", "js_bit_rate", "js_holding", "min_holding_samples",
              "load_ratio", "false_alarm_probability", "confirm_windows"},
             w);
    Reader r(j["drift"], w);
    r.Integer("window_requests", &c.drift.window_requests, 50, 10000000);
    r.Number("js_pairs", &c.drift.js_pairs, 0, 1, true);
    r.Number("js_bit_rate", &c.drift.js_bit_rate, 0, 1, true);
    r.Number("js_holding", &c.drift.js_holding, 0, 1, true);
    r.Integer("min_holding_samples", &c.drift.min_holding_samples, 10, 10000000);
    r.Number("load_ratio", &c.drift.load_ratio, 0, 100, true);
    r.Number("false_alarm_probability", &c.drift.false_alarm_probability, 1e-12, 0.5);
    r.Integer("confirm_windows", &c.drift.confirm_windows, 1, 100);
  }
  if (j.contains("retrain")) {
    const std::string w = origin + ".retrain";
    OnlyKeys(j["retrain"],
             {"on_drift", "every_s", "cooldown_s", "calibration_requests", "pair_smoothing",
              "experiment", "es_experiment", "overrides", "steps", "checkpoint_steps",
              "run_experiment"},
             w);
    Reader r(j["retrain"], w);
    r.Bool("on_drift", &c.retrain.on_drift);
    r.Number("every_s", &c.retrain.every_s, 0, kBig);
    r.Number("cooldown_s", &c.retrain.cooldown_s, 0, kBig);
    r.Integer("calibration_requests", &c.retrain.calibration_requests, 50, 10000000);
    r.Number("pair_smoothing", &c.retrain.pair_smoothing, 0, 1000);
    r.String("experiment", &c.retrain.experiment);
    r.String("es_experiment", &c.retrain.es_experiment);
    if (j["retrain"].contains("overrides")) {
      const Json& o = j["retrain"]["overrides"];
      if (!o.is_object()) Fail(w + ".overrides", "expected an object (merged into the experiment)");
      c.retrain.overrides = o;
    }
    r.Integer("steps", &c.retrain.steps, 1, int64_t{1} << 40);
    r.Integer("checkpoint_steps", &c.retrain.checkpoint_steps, 0, int64_t{1} << 40);
    r.String("run_experiment", &c.retrain.run_experiment);
  }
  if (j.contains("gate")) {
    const std::string w = origin + ".gate";
    OnlyKeys(j["gate"],
             {"trace_requests", "min_trace_requests", "replay_batches", "heuristics",
              "twin_seeds", "twin_requests", "twin_warmup", "seed", "heuristics_compete"},
             w);
    Reader r(j["gate"], w);
    r.Integer("trace_requests", &c.gate.trace_requests, 10, 10000000);
    r.Integer("min_trace_requests", &c.gate.min_trace_requests, 10, 10000000);
    r.Integer("replay_batches", &c.gate.replay_batches, 2, 1000);
    r.Strings("heuristics", &c.gate.heuristics);
    for (size_t i = 0; i < c.gate.heuristics.size(); ++i) {
      try {
        twin::MakeHeuristic(c.gate.heuristics[i]);
      } catch (const std::invalid_argument& e) {
        Fail(w + ".heuristics[" + std::to_string(i) + "]", e.what());
      }
    }
    r.Integer("twin_seeds", &c.gate.twin_seeds, 0, 1000);
    r.Integer("twin_requests", &c.gate.twin_requests, 10, 100000000);
    r.Integer("twin_warmup", &c.gate.twin_warmup, 0, 100000000);
    r.Integer("seed", &c.gate.seed, 0, std::numeric_limits<int64_t>::max());
    r.Bool("heuristics_compete", &c.gate.heuristics_compete);
    if (c.gate.min_trace_requests > c.gate.trace_requests)
      Fail(w + ".min_trace_requests", "must not exceed trace_requests");
    if (c.gate.twin_seeds == 1)
      Fail(w + ".twin_seeds", "a paired confidence interval needs 0 (no twin check) or >= 2 seeds");
  }
  if (j.contains("rollback")) {
    const std::string w = origin + ".rollback";
    OnlyKeys(j["rollback"],
             {"relative_threshold", "confidence", "min_requests", "baseline_requests",
              "watch_requests", "kpi"},
             w);
    Reader r(j["rollback"], w);
    r.Number("relative_threshold", &c.rollback.relative_threshold, 0, 10);
    r.Number("confidence", &c.rollback.confidence, 0.5, 0.999999);
    r.Integer("min_requests", &c.rollback.min_requests, 10, 10000000);
    r.Integer("baseline_requests", &c.rollback.baseline_requests, 10, 10000000);
    r.Integer("watch_requests", &c.rollback.watch_requests, 10, 100000000);
    r.String("kpi", &c.rollback.kpi);
    if (c.rollback.kpi != "blocking" && c.rollback.kpi != "bit_rate_blocking")
      Fail(w + ".kpi", "must be \"blocking\" or \"bit_rate_blocking\", got \"" + c.rollback.kpi + "\"");
    if (c.rollback.min_requests > c.rollback.watch_requests)
      Fail(w + ".min_requests", "must not exceed watch_requests");
  }
  return c;
}

Json LifecycleConfig::ToJson() const {
  return {{"pce_config", pce_config},
          {"use_cases", use_cases},
          {"poll_ms", poll_ms},
          {"registry_poll_ms", registry_poll_ms},
          {"kpi",
           {{"window_requests", kpi.window_requests},
            {"log_interval_ms", kpi.log_interval_ms},
            {"experiment", kpi.experiment}}},
          {"drift",
           {{"window_requests", drift.window_requests},
            {"js_pairs", drift.js_pairs},
            {"js_bit_rate", drift.js_bit_rate},
            {"js_holding", drift.js_holding},
            {"min_holding_samples", drift.min_holding_samples},
            {"load_ratio", drift.load_ratio},
            {"false_alarm_probability", drift.false_alarm_probability},
            {"confirm_windows", drift.confirm_windows}}},
          {"retrain",
           {{"on_drift", retrain.on_drift},
            {"every_s", retrain.every_s},
            {"cooldown_s", retrain.cooldown_s},
            {"calibration_requests", retrain.calibration_requests},
            {"pair_smoothing", retrain.pair_smoothing},
            {"experiment", retrain.experiment},
            {"es_experiment", retrain.es_experiment},
            {"overrides", retrain.overrides},
            {"steps", retrain.steps},
            {"checkpoint_steps", retrain.checkpoint_steps},
            {"run_experiment", retrain.run_experiment}}},
          {"gate",
           {{"trace_requests", gate.trace_requests},
            {"min_trace_requests", gate.min_trace_requests},
            {"replay_batches", gate.replay_batches},
            {"heuristics", gate.heuristics},
            {"twin_seeds", gate.twin_seeds},
            {"twin_requests", gate.twin_requests},
            {"twin_warmup", gate.twin_warmup},
            {"seed", gate.seed},
            {"heuristics_compete", gate.heuristics_compete}}},
          {"rollback",
           {{"relative_threshold", rollback.relative_threshold},
            {"confidence", rollback.confidence},
            {"min_requests", rollback.min_requests},
            {"baseline_requests", rollback.baseline_requests},
            {"watch_requests", rollback.watch_requests},
            {"kpi", rollback.kpi}}}};
}

namespace {

std::string Resolve(const std::string& origin, const std::string& path) {
  // Relative to the config file that named it; a config built in code resolves against configs/.
  return twin::ResolveConfigPath(origin == "defaults" ? "" : origin, path);
}

}  // namespace

std::string LifecycleConfig::PceConfigPath() const { return Resolve(origin, pce_config); }
std::string LifecycleConfig::ExperimentPath() const { return Resolve(origin, retrain.experiment); }
std::string LifecycleConfig::EsExperimentPath() const { return Resolve(origin, retrain.es_experiment); }

}  // namespace eonops::lifecycle
