#include "tools/scenario_flags.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "agents/options.h"
#include "pce/config.h"
#include "twin/json_util.h"

namespace eonops::tools {

void AddScenarioFlags(ArgParser& p) {
  p.Add("config", "FILE", "scenario JSON with network/traffic/measurement sections (e.g. configs/benchmarks/deeprmsa-nsfnet.json)");
  p.Add("topology", "NAME|FILE", "topology under configs/topologies, or a file (default nsfnet)");
  p.Add("bands", "LIST", "bands in preference order, e.g. C or C,L,S (default C)");
  p.Add("slots", "N", "cut each band to its first N slots (DeepRMSA: 100)");
  p.Add("modulations", "FILE", "modulation table under configs/ (default modulations.json)");
  p.Add("modulation-mode", "reach|gsnr", "choose modulation by reach or by worst-case GSNR");
  p.Add("gsnr-margin-db", "DB", "margin above a format's GSNR threshold");
  p.Add("k", "N", "candidate paths per pair (default 5)");
  p.Add("path-order", "length|hops|hops-se",
        "candidate set: k shortest by km, k fewest hops, or fewest hops sorted by hops / bits per symbol "
        "(default length)");
  p.Add("load", "ERLANG", "offered load (default 250)");
  p.Add("holding", "T", "mean holding time (default 25)");
  p.Add("truncate-holding", "FACTOR", "redraw holding times >= FACTOR x mean (DeepRMSA: 2; 0 = off)");
  p.Add("bit-rate", "MIN:MAX", "bit rate range in Gb/s, uniform integers (default 25:100)");
  p.Add("latency-bound-us", "US", "latency bound for every request");
  p.Add("requests", "N", "counted requests after the warm-up (default 100000)");
  p.Add("warmup", "N", "warm-up requests, not counted (default 3000)");
  p.Add("batch", "N", "batch size for the batch-means confidence interval (default 10000)");
}

twin::Scenario LoadScenarioConfig(const std::string& path) {
  const nlohmann::json j = twin::ReadJsonFile(path);
  if (j.is_object() && (j.contains("pce") || j.contains("tapi")))
    return pce::PceConfig::Load(path).ToScenario();  // checked whole by the PCE's reader
  if (j.is_object() && (j.contains("train") || j.contains("ppo") || j.contains("dqn"))) {
    const agents::ExperimentConfig cfg = agents::LoadExperimentConfig(path);
    return twin::Scenario::FromJson(cfg.twin, path);
  }
  return twin::Scenario::Load(path);
}

twin::Scenario ScenarioFromFlags(const ArgParser& p) {
  twin::Scenario s = p.Has("config") ? LoadScenarioConfig(p.Get("config")) : twin::Scenario{};
  auto& n = s.network;
  auto& t = s.traffic;
  try {
    if (p.Has("topology")) n.topology = p.Get("topology");
    if (p.Has("bands")) {
      n.bands.clear();
      std::stringstream ss(p.Get("bands"));
      std::string b;
      while (std::getline(ss, b, ',')) n.bands.push_back(b);
    }
    if (p.Has("slots")) n.slots_per_band = static_cast<int>(p.GetInt("slots"));
    if (p.Has("modulations")) n.modulations = p.Get("modulations");
    if (p.Has("modulation-mode")) n.modulation_mode = twin::ParseModulationMode(p.Get("modulation-mode"));
    if (p.Has("gsnr-margin-db")) n.gsnr_margin_db = p.GetDouble("gsnr-margin-db");
    if (p.Has("k")) n.k_paths = static_cast<int>(p.GetInt("k"));
    if (p.Has("path-order")) n.path_order = twin::ParsePathOrder(p.Get("path-order"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (n.k_paths < 1 || n.k_paths > 64) throw UsageError("--k must be in 1..64");
  if (n.slots_per_band < 0) throw UsageError("--slots must not be negative");
  if (p.Has("load")) t.load_erlang = p.GetDouble("load");
  if (p.Has("holding")) t.mean_holding_time = p.GetDouble("holding");
  if (p.Has("truncate-holding")) t.holding_truncate_factor = p.GetDouble("truncate-holding");
  if (p.Has("bit-rate")) {
    std::string v = p.Get("bit-rate");
    auto colon = v.find(':');
    if (colon == std::string::npos) throw UsageError("--bit-rate expects MIN:MAX, got '" + v + "'");
    try {
      size_t a = 0, b = 0;
      t.bit_rate_min_gbps = std::stoi(v.substr(0, colon), &a);
      t.bit_rate_max_gbps = std::stoi(v.substr(colon + 1), &b);
      if (a != colon || b != v.size() - colon - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--bit-rate expects integers MIN:MAX, got '" + v + "'");
    }
  }
  if (p.Has("latency-bound-us")) t.latency_bound_us = p.GetDouble("latency-bound-us");
  try {
    t.Validate(-1);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (p.Has("requests")) s.measurement.requests = p.GetInt("requests");
  if (p.Has("warmup")) s.measurement.warmup = p.GetInt("warmup");
  if (p.Has("batch")) s.measurement.batch_size = p.GetInt("batch");
  if (s.measurement.requests <= 0) throw UsageError("--requests must be positive");
  if (s.measurement.warmup < 0) throw UsageError("--warmup must not be negative");
  if (s.measurement.batch_size <= 0) throw UsageError("--batch must be positive");
  return s;
}

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputs("\n", stderr);
}

void ProgressBar::Update(double fraction, const std::string& detail) {
  if (!enabled_) return;
  const int width = 30;
  int filled = static_cast<int>(fraction * width + 0.5);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %5.1f%% %s\033[K", label_.c_str(), bar.c_str(), 100 * fraction, detail.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace eonops::tools
