// eonops simulate: replay the twin under dynamic traffic with heuristics, over loads and seeds.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "twin/sweep.h"

namespace eonops::tools {

int RunSimulate(int argc, char** argv) {
  ArgParser p("eonops simulate",
              "Replay the digital twin under Poisson traffic with heuristic policies and report blocking\n"
              "(with 95% confidence intervals), blocking by cause, utilisation per band, latency and power.\n"
              "Example (the DeepRMSA NSFNET benchmark):\n"
              "  eonops simulate --config configs/benchmarks/deeprmsa-nsfnet.json --policy ksp-ff --json");
  AddScenarioFlags(p);
  p.Add("policy", "NAME",
        "sp-ff, ksp-ff, ksp-bf, ksp-lf, ksp-ef, ff-ksp, ksp-mscl, mscl-ksp, wmscl-ksp, lmscl-ksp, qot-aware, "
        "latency-aware, energy-aware",
        "ksp-ff");
  p.Add("policies", "LIST", "several policies, comma-separated, side by side");
  p.Add("loads", "FROM:TO:STEP", "sweep the load (Erlang), e.g. 150:350:50, or a comma list");
  p.Add("seed", "N", "first random seed", "1");
  p.Add("seeds", "N", "independent seeds per point (CI across seeds when > 1)", "1");
  p.Add("threads", "N", "points simulated in parallel", "1");
  p.Add("csv", "FILE", "also write the table as CSV");
  p.AddSwitch("json", "print JSON instead of a table");
  p.AddSwitch("check-invariants", "check the occupancy invariants after every event (slow)");
  if (!p.Parse(argc, argv)) return 0;

  twin::Scenario scenario = ScenarioFromFlags(p);
  std::vector<std::string> policies;
  {
    std::stringstream ss(p.Has("policies") ? p.Get("policies") : p.Get("policy"));
    std::string name;
    while (std::getline(ss, name, ',')) policies.push_back(name);
  }
  std::vector<twin::SweepPolicy> sweep_policies;
  for (const auto& name : policies) {
    try {
      sweep_policies.push_back(twin::HeuristicPolicy(name, scenario));  // the message lists the known names
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  std::vector<double> loads = p.Has("loads") ? ParseRange("loads", p.Get("loads")) : std::vector<double>{scenario.traffic.load_erlang};
  for (double l : loads) {
    if (!(l > 0)) throw UsageError("loads must be positive");
  }
  const uint64_t seed = p.GetUint("seed");
  const int seeds = static_cast<int>(p.GetInt("seeds"));
  const int threads = static_cast<int>(p.GetInt("threads"));
  if (seeds < 1 || seeds > 1000) throw UsageError("--seeds must be in 1..1000");
  if (threads < 1 || threads > 256) throw UsageError("--threads must be in 1..256");
  std::ofstream csv;
  if (p.Has("csv")) {
    csv.open(p.Get("csv"));
    if (!csv) throw std::runtime_error("cannot write " + p.Get("csv"));
  }

  auto model = std::make_shared<const twin::NetworkModel>(scenario.network);
  twin::SweepOptions sweep;
  sweep.loads = loads;
  sweep.seed = seed;
  sweep.seeds = seeds;
  sweep.threads = threads;
  sweep.check_invariants = p.Switch("check-invariants");
  ProgressBar bar("simulate");
  sweep.progress = [&bar](double fraction) { bar.Update(fraction); };
  const std::vector<nlohmann::json> rows = twin::SimulateSweep(model, scenario, sweep_policies, sweep);

  if (p.Switch("json")) {
    std::cout << twin::SweepReport(rows, scenario).dump(2) << "\n";
  } else {
    std::cout << "topology " << model->topology().name() << ", bands";
    for (const auto& b : model->plan().bands()) std::cout << " " << b.name << "(" << b.num_slots << ")";
    std::cout << ", k=" << model->k() << " by " << twin::ToString(model->options().path_order) << ", modulation by "
              << twin::ToString(model->options().modulation_mode) << ", " << scenario.measurement.requests
              << " requests after " << scenario.measurement.warmup << " warm-up, " << seeds << " seed(s)\n";
    std::cout << std::left << std::setw(14) << "policy" << std::right << std::setw(8) << "load" << std::setw(12)
              << "blocking" << std::setw(12) << "+-ci95" << std::setw(12) << "bitrate_bp" << std::setw(10) << "no_spec"
              << std::setw(8) << "qot" << std::setw(8) << "lat" << std::setw(12) << "power_w" << std::setw(12)
              << "lat_p99_us" << std::setw(12) << "steps/s" << "\n";
    for (const auto& r : rows) {
      std::cout << std::left << std::setw(14) << r["policy"].get<std::string>() << std::right << std::setw(8)
                << r["load_erlang"].get<double>() << std::setw(12) << std::setprecision(5)
                << r["blocking_probability"].get<double>() << std::setw(12)
                << (r["blocking_ci95"].is_null() ? std::string("n/a") : std::to_string(r["blocking_ci95"].get<double>()))
                << std::setw(12) << r["bit_rate_blocking"].get<double>() << std::setw(10)
                << r["blocked_by_cause"]["no_spectrum"].get<int64_t>() << std::setw(8) << r["blocked_by_cause"]["qot"].get<int64_t>()
                << std::setw(8) << r["blocked_by_cause"]["latency"].get<int64_t>() << std::setw(12) << std::setprecision(6)
                << r["power_mean_w"].get<double>() << std::setw(12)
                << (r["latency_p99_us"].is_null() ? 0.0 : r["latency_p99_us"].get<double>()) << std::setw(12)
                << std::setprecision(4) << r["steps_per_second"].get<double>() << "\n";
    }
  }
  if (csv) {
    csv << "policy,load_erlang,seeds,requests,blocking_probability,blocking_ci95,bit_rate_blocking,blocked_no_spectrum,"
           "blocked_qot,blocked_latency,power_mean_w,energy_per_bit_pj,latency_mean_us,latency_p99_us\n";
    auto num = [](const nlohmann::json& v) { return v.is_null() ? std::string("") : v.dump(); };
    for (const auto& r : rows) {
      csv << r["policy"].get<std::string>() << "," << r["load_erlang"] << "," << r["seeds"] << "," << r["requests"] << ","
          << num(r["blocking_probability"]) << "," << num(r["blocking_ci95"]) << "," << num(r["bit_rate_blocking"]) << ","
          << r["blocked_by_cause"]["no_spectrum"] << "," << r["blocked_by_cause"]["qot"] << ","
          << r["blocked_by_cause"]["latency"] << "," << num(r["power_mean_w"]) << "," << num(r["energy_per_bit_pj"]) << ","
          << num(r["latency_mean_us"]) << "," << num(r["latency_p99_us"]) << "\n";
    }
  }
  return 0;
}

}  // namespace eonops::tools
