// eonops qot: GSNR, latency and energy of a lightpath on a topology (`eonops qot line` for a
// plain point-to-point line).
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "twin/gsnr.h"
#include "twin/network.h"

namespace eonops::tools {

namespace {

// Everything `qot` reports about one lightpath: a block of `width` slots at `slot` of `band`.
nlohmann::json DescribeLightpath(const twin::NetworkModel& m, const twin::Path& path, int band, int slot, int width,
                                 double bit_rate_gbps) {
  const auto& plan = m.plan();
  const auto& q = m.qot();
  twin::NetworkState empty(std::shared_ptr<const twin::NetworkModel>(&m, [](const twin::NetworkModel*) {}));
  const double worst_db = q.WorstCaseGsnrDb(path.fibres, band, slot, width);
  // Alone on an empty network: only this channel on each fibre.
  const double alone_db = q.ActualGsnrDb(path.fibres, band, slot, width, [](int, std::vector<twin::ActiveChannel>*) {});
  twin::FlexGridChannel ch = plan.SlotsToGrid(band, slot, width);
  const int by_gsnr = m.modulations().ByGsnr(worst_db, m.options().gsnr_margin_db);
  const int by_reach = m.modulations().ByReach(path.length_km);
  nlohmann::json j = {{"nodes", path.nodes},
                      {"fibres", path.fibres},
                      {"hops", path.hops},
                      {"length_km", path.length_km},
                      {"amplifiers", path.num_amplifiers},
                      {"band", plan.band(band).name},
                      {"slot", slot},
                      {"width_slots", width},
                      {"centre_frequency_thz", ch.centre_hz * 1e-12},
                      {"lower_frequency_mhz", std::llround(ch.lower_hz * 1e-6)},
                      {"upper_frequency_mhz", std::llround(ch.upper_hz * 1e-6)},
                      {"grid_n", ch.n},
                      {"grid_m", ch.m},
                      {"symbol_rate_gbaud", q.SymbolRateForWidthBaud(width) * 1e-9},
                      {"gsnr_db", worst_db},
                      {"gsnr_single_channel_db", alone_db},
                      {"modulation_by_gsnr", by_gsnr >= 0 ? m.modulations().format(by_gsnr).name : "none"},
                      {"modulation_by_reach", by_reach >= 0 ? m.modulations().format(by_reach).name : "none"},
                      {"latency_us", m.latency().PathLatencyUs(path)}};
  const int mod = by_gsnr >= 0 ? by_gsnr : by_reach;
  if (mod >= 0) {
    const double capacity = m.LineCapacityGbps(width, mod);
    const auto& e = m.energy();
    j["line_capacity_gbps"] = capacity;
    j["margin_db"] = worst_db - m.modulations().format(mod).gsnr_threshold_db;
    j["transponder_power_w"] = e.TransponderPowerW(capacity);
    j["amplifier_power_w"] = e.NewAmplifierPowerW(m.topology(), empty.spectrum(), path, band);
    j["incremental_power_w"] = e.IncrementalPowerW(m.topology(), empty.spectrum(), path, band, capacity);
    j["slots_needed"] = m.modulations().SlotsNeeded(bit_rate_gbps, mod);
    j["bit_rate_gbps"] = bit_rate_gbps;
  }
  return j;
}

}  // namespace

int RunQot(int argc, char** argv) {
  if (argc > 0 && std::strcmp(argv[0], "line") == 0) return RunQotLine(argc - 1, argv + 1);
  ArgParser p("eonops qot",
              "GSNR (fully loaded worst case and alone), modulation, latency and energy of a lightpath.\n"
              "  eonops qot --topology nsfnet --path 0,2,5 --band C --slot 100 --width 4 --json\n"
              "  eonops qot --topology nsfnet --all-pairs      (shortest path of every pair)\n"
              "  eonops qot line --help                        (a plain point-to-point line)");
  p.Add("topology", "NAME|FILE", "topology under configs/topologies, or a file", "nsfnet");
  p.Add("bands", "LIST", "bands of the plan", "C,L,S");
  p.Add("path", "N0,N1,...", "node ids (0-based) of the lightpath's path");
  p.Add("band", "NAME", "band of the lightpath", "C");
  p.Add("slot", "N", "first slot of the block", "100");
  p.Add("width", "N", "slots in the block (guard included)", "4");
  p.Add("bit-rate", "GBPS", "bit rate, for the slot count", "100");
  p.Add("gsnr-margin-db", "DB", "margin above the format's threshold", "0");
  p.AddSwitch("all-pairs", "the shortest path of every node pair, one lightpath each");
  p.AddSwitch("json", "print JSON");
  if (!p.Parse(argc, argv)) return 0;

  twin::NetworkOptions opt;
  opt.topology = p.Get("topology");
  opt.bands.clear();
  for (const auto& b : [&] {
         std::vector<std::string> v;
         std::stringstream ss(p.Get("bands"));
         std::string x;
         while (std::getline(ss, x, ',')) v.push_back(x);
         return v;
       }()) {
    opt.bands.push_back(b);
  }
  opt.gsnr_margin_db = p.GetDouble("gsnr-margin-db");
  opt.modulation_mode = twin::ModulationMode::kGsnr;
  opt.k_paths = 1;
  std::unique_ptr<twin::NetworkModel> model;
  try {
    model = std::make_unique<twin::NetworkModel>(opt);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const int band = model->plan().IndexOf(p.Get("band"));
  if (band < 0) throw UsageError("--band " + p.Get("band") + " is not among --bands " + p.Get("bands"));
  const long long slot = p.GetInt("slot"), width = p.GetInt("width");
  const int slots = model->plan().band(band).num_slots;
  if (width < 1 || width > slots) throw UsageError("--width must be in 1.." + std::to_string(slots));
  if (slot < 0 || slot + width > slots) {
    throw UsageError("--slot must be in 0.." + std::to_string(slots - width) + " for a block of " + std::to_string(width) +
                     " slots in band " + p.Get("band"));
  }
  const double bit_rate = p.GetDouble("bit-rate");
  if (!(bit_rate > 0)) throw UsageError("--bit-rate must be positive");

  std::vector<nlohmann::json> out;
  if (p.Switch("all-pairs")) {
    if (p.Has("path")) throw UsageError("give either --path or --all-pairs, not both");
    const int n = model->topology().NumNodes();
    for (int s = 0; s < n; ++s) {
      for (int d = 0; d < n; ++d) {
        if (s == d || model->paths().Get(s, d).empty()) continue;
        out.push_back(DescribeLightpath(*model, model->paths().Get(s, d)[0], band, static_cast<int>(slot),
                                        static_cast<int>(width), bit_rate));
      }
    }
  } else {
    if (!p.Has("path")) throw UsageError("give --path N0,N1,... or --all-pairs");
    std::vector<int> nodes;
    for (long long v : ParseIntList("path", p.Get("path"))) nodes.push_back(static_cast<int>(v));
    twin::Path path;
    try {
      path = twin::PathFromNodes(model->topology(), nodes);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--path: ") + e.what());
    }
    out.push_back(DescribeLightpath(*model, path, band, static_cast<int>(slot), static_cast<int>(width), bit_rate));
  }

  if (p.Switch("json")) {
    std::cout << (out.size() == 1 ? out[0] : nlohmann::json(out)).dump(2) << "\n";
    return 0;
  }
  std::cout << "topology " << model->topology().name() << ", band " << p.Get("band") << ", slot " << slot << ", width "
            << width << " (fully loaded C+L+S worst case unless noted)\n";
  std::cout << std::left << std::setw(22) << "path" << std::right << std::setw(10) << "length_km" << std::setw(10)
            << "gsnr_db" << std::setw(12) << "alone_db" << std::setw(10) << "format" << std::setw(11) << "margin_db"
            << std::setw(12) << "latency_us" << std::setw(12) << "trx_w" << std::setw(12) << "incr_w" << "\n";
  for (const auto& j : out) {
    std::string nodes;
    for (int v : j["nodes"]) nodes += (nodes.empty() ? "" : "-") + std::to_string(v);
    std::cout << std::left << std::setw(22) << nodes << std::right << std::fixed << std::setprecision(1) << std::setw(10)
              << j["length_km"].get<double>() << std::setprecision(2) << std::setw(10) << j["gsnr_db"].get<double>()
              << std::setw(12) << j["gsnr_single_channel_db"].get<double>() << std::setw(10)
              << j["modulation_by_gsnr"].get<std::string>() << std::setw(11) << j.value("margin_db", 0.0) << std::setprecision(1)
              << std::setw(12) << j["latency_us"].get<double>() << std::setw(12) << j.value("transponder_power_w", 0.0)
              << std::setw(12) << j.value("incremental_power_w", 0.0) << "\n";
  }
  return 0;
}

int RunPaths(int argc, char** argv) {
  ArgParser p("eonops paths", "The k candidate loopless paths (Yen) between two nodes: shortest by km, fewest hops, "
                              "or fewest hops sorted by hops / bits per symbol.");
  p.Add("topology", "NAME|FILE", "topology under configs/topologies, or a file", "nsfnet");
  p.Add("from", "NODE", "source node id (0-based)");
  p.Add("to", "NODE", "destination node id (0-based)");
  p.Add("k", "N", "number of paths", "5");
  p.Add("path-order", "length|hops|hops-se", "candidate set and its order", "length");
  p.AddSwitch("json", "print JSON");
  if (!p.Parse(argc, argv)) return 0;
  twin::Topology t = twin::Topology::Load(twin::ResolveTopologyPath(p.Get("topology")));
  const long long from = p.GetInt("from"), to = p.GetInt("to"), k = p.GetInt("k");
  if (from < 0 || from >= t.NumNodes()) throw UsageError("--from must be in 0.." + std::to_string(t.NumNodes() - 1));
  if (to < 0 || to >= t.NumNodes()) throw UsageError("--to must be in 0.." + std::to_string(t.NumNodes() - 1));
  if (from == to) throw UsageError("--from and --to must differ");
  if (k < 1 || k > 64) throw UsageError("--k must be in 1..64");
  twin::PathOrder order;
  try {
    order = twin::ParsePathOrder(p.Get("path-order"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  std::vector<twin::Path> paths;
  if (order == twin::PathOrder::kHopsSe) {
    // The sort needs each path's format: the model's table (modulation by reach, default table).
    twin::NetworkOptions opt;
    opt.topology = p.Get("topology");
    opt.k_paths = static_cast<int>(k);
    opt.path_order = order;
    twin::NetworkModel model(opt);
    paths = model.paths().Get(static_cast<int>(from), static_cast<int>(to));
  } else {
    paths = twin::KShortestPaths(t, static_cast<int>(from), static_cast<int>(to), static_cast<int>(k),
                                 order == twin::PathOrder::kHops ? twin::PathMetric::kHops : twin::PathMetric::kLength);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& path : paths) {
    out.push_back({{"nodes", path.nodes}, {"fibres", path.fibres}, {"length_km", path.length_km}, {"hops", path.hops}});
  }
  if (p.Switch("json")) {
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& j : out) {
      std::string nodes;
      for (int v : j["nodes"]) nodes += (nodes.empty() ? "" : "-") + std::to_string(v);
      std::cout << std::setw(8) << j["length_km"].get<double>() << " km  " << j["hops"] << " hops  " << nodes << "\n";
    }
  }
  return 0;
}

}  // namespace eonops::tools
