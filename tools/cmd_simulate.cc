// eonops simulate: replay the twin under dynamic traffic with heuristics, over loads and seeds.
#include <atomic>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "twin/heuristics.h"
#include "twin/simulator.h"

namespace eonops::tools {

namespace {

struct Point {
  std::string policy;
  double load = 0;
  std::vector<twin::SimulationResult> runs;  // one per seed
};

// Merges the runs of one (policy, load): with several seeds the CI comes from the seeds
// (independent replications), with one from its batch means.
nlohmann::json Summarise(const Point& p) {
  if (p.runs.size() == 1) {
    nlohmann::json j = p.runs[0].ToJson();
    j["seeds"] = 1;
    j["ci_method"] = "batch-means";
    return j;
  }
  std::vector<double> b, br, pw;
  for (const auto& r : p.runs) {
    b.push_back(r.blocking.mean);
    br.push_back(r.bit_rate_blocking);
    pw.push_back(r.power_mean_w);
  }
  twin::Estimate eb = twin::MeanCi(b), ebr = twin::MeanCi(br), epw = twin::MeanCi(pw);
  nlohmann::json j = p.runs[0].ToJson();
  j["seeds"] = p.runs.size();
  j["ci_method"] = "independent-seeds";
  j["blocking_probability"] = eb.mean;
  j["blocking_ci95"] = eb.ci95;
  j["bit_rate_blocking"] = ebr.mean;
  j["bit_rate_blocking_ci95"] = ebr.ci95;
  j["power_mean_w"] = epw.mean;
  j["power_ci95_w"] = epw.ci95;
  int64_t req = 0, blk = 0, no_spectrum = 0, qot = 0, latency = 0, no_path = 0;
  double wall = 0;
  for (const auto& r : p.runs) {
    req += r.requests;
    blk += r.blocked;
    wall += r.wall_seconds;
    no_spectrum += r.blocked_no_spectrum;
    qot += r.blocked_qot;
    latency += r.blocked_latency;
    no_path += r.blocked_no_path;
  }
  // Counts add up over the seeds, like requests and blocked.
  j["blocked_by_cause"] = {{"no_spectrum", no_spectrum}, {"qot", qot}, {"latency", latency}, {"no_path", no_path}};
  j["requests"] = req;
  j["blocked"] = blk;
  j["wall_seconds"] = wall;
  j.erase("seed");
  j.erase("accepted");
  return j;
}

}  // namespace

int RunSimulate(int argc, char** argv) {
  ArgParser p("eonops simulate",
              "Replay the digital twin under Poisson traffic with heuristic policies and report blocking\n"
              "(with 95% confidence intervals), blocking by cause, utilisation per band, latency and power.\n"
              "Example (the DeepRMSA NSFNET benchmark):\n"
              "  eonops simulate --config configs/benchmarks/deeprmsa-nsfnet.json --policy ksp-ff --json");
  AddScenarioFlags(p);
  p.Add("policy", "NAME",
        "sp-ff, ksp-ff, ksp-bf, ksp-lf, ksp-ef, ff-ksp, ksp-mscl, mscl-ksp, qot-aware, latency-aware, energy-aware",
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
  twin::HeuristicOptions heuristic_options;
  heuristic_options.max_bit_rate_gbps = scenario.traffic.MaxBitRateGbps();
  for (const auto& name : policies) {
    if (!twin::IsHeuristicName(name)) {
      try {
        twin::MakeHeuristic(name);  // the message lists the known names
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
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

  // Every (policy, load, seed) is one job; jobs run on a small pool of threads.
  std::vector<Point> points;
  for (const auto& name : policies) {
    for (double l : loads) points.push_back({name, l, std::vector<twin::SimulationResult>(seeds)});
  }
  const int64_t jobs = static_cast<int64_t>(points.size()) * seeds;
  std::atomic<int64_t> next{0}, done_requests{0};
  const int64_t per_job = scenario.measurement.warmup + scenario.measurement.requests;
  ProgressBar bar("simulate");
  std::mutex bar_mutex;
  std::exception_ptr error;
  auto worker = [&]() {
    for (int64_t job; (job = next++) < jobs;) {
      Point& pt = points[job / seeds];
      const int s = static_cast<int>(job % seeds);
      twin::TrafficConfig traffic = scenario.traffic;
      traffic.load_erlang = pt.load;
      twin::SimulationOptions opt;
      opt.requests = scenario.measurement.requests;
      opt.warmup = scenario.measurement.warmup;
      opt.batch_size = scenario.measurement.batch_size;
      opt.seed = seed + s;
      opt.check_invariants = p.Switch("check-invariants");
      int64_t reported = 0;
      opt.progress = [&](int64_t d, int64_t) {
        done_requests += d - reported;
        reported = d;
        std::lock_guard<std::mutex> lock(bar_mutex);
        bar.Update(double(done_requests) / (per_job * jobs));
      };
      try {
        // One heuristic per job: the capacity-loss rules keep per-state caches.
        const auto h = twin::MakeHeuristic(pt.policy, heuristic_options);
        pt.runs[s] = twin::Simulate(model, traffic, *h, opt);
      } catch (...) {
        std::lock_guard<std::mutex> lock(bar_mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  std::vector<nlohmann::json> rows;
  for (const auto& pt : points) rows.push_back(Summarise(pt));
  nlohmann::json scen = scenario.ToJson();
  if (p.Switch("json")) {
    nlohmann::json out = rows.size() == 1 ? rows[0] : nlohmann::json{{"results", rows}};
    out["scenario"] = scen;
    std::cout << out.dump(2) << "\n";
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
