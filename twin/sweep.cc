#include "twin/sweep.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "twin/simulator.h"

namespace eonops::twin {

namespace {

struct Point {
  std::string policy;
  double load = 0;
  std::vector<SimulationResult> runs;  // one per seed
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
  Estimate eb = MeanCi(b), ebr = MeanCi(br), epw = MeanCi(pw);
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

SweepPolicy HeuristicPolicy(const std::string& name, const Scenario& scenario) {
  const HeuristicOptions options = HeuristicOptions::ForTraffic(scenario.traffic);
  MakeHeuristic(name, options);  // an unknown name fails here, with the list of known ones
  return {name, [name, options] { return MakeHeuristic(name, options); }};
}

std::vector<nlohmann::json> SimulateSweep(std::shared_ptr<const NetworkModel> model, const Scenario& scenario,
                                          const std::vector<SweepPolicy>& policies, const SweepOptions& options) {
  if (policies.empty()) throw std::invalid_argument("simulate: no policy given");
  for (const SweepPolicy& p : policies) {
    if (!p.make) throw std::invalid_argument("simulate: policy '" + p.name + "' cannot be made");
  }
  if (options.seeds < 1 || options.seeds > 1000) throw std::invalid_argument("simulate: seeds must be in 1..1000");
  if (options.threads < 1 || options.threads > 256) throw std::invalid_argument("simulate: threads must be in 1..256");
  const std::vector<double> loads = options.loads.empty() ? std::vector<double>{scenario.traffic.load_erlang} : options.loads;
  for (double l : loads) {
    if (!(l > 0)) throw std::invalid_argument("simulate: loads must be positive, got " + std::to_string(l));
  }
  const int seeds = options.seeds;
  std::vector<Point> points;
  for (const SweepPolicy& p : policies) {
    for (double l : loads) points.push_back({p.name, l, std::vector<SimulationResult>(seeds)});
  }
  const int64_t jobs = static_cast<int64_t>(points.size()) * seeds;
  const int64_t per_job = scenario.measurement.warmup + scenario.measurement.requests;
  std::atomic<int64_t> next{0}, done_requests{0};
  std::mutex mutex;
  std::exception_ptr error;
  auto worker = [&]() {
    for (int64_t job; (job = next++) < jobs;) {
      Point& pt = points[job / seeds];
      const int s = static_cast<int>(job % seeds);
      TrafficConfig traffic = scenario.traffic;
      traffic.load_erlang = pt.load;
      SimulationOptions opt;
      opt.requests = scenario.measurement.requests;
      opt.warmup = scenario.measurement.warmup;
      opt.batch_size = scenario.measurement.batch_size;
      opt.seed = options.seed + s;
      opt.check_invariants = options.check_invariants;
      int64_t reported = 0;
      if (options.progress) {
        opt.progress = [&](int64_t d, int64_t) {
          done_requests += d - reported;
          reported = d;
          std::lock_guard<std::mutex> lock(mutex);
          options.progress(static_cast<double>(done_requests) / (per_job * jobs));
        };
      }
      try {
        const std::unique_ptr<Heuristic> h = policies[(job / seeds) / loads.size()].make();
        pt.runs[s] = Simulate(model, traffic, *h, opt);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < options.threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  std::vector<nlohmann::json> rows;
  rows.reserve(points.size());
  for (const auto& pt : points) rows.push_back(Summarise(pt));
  return rows;
}

nlohmann::json SweepReport(const std::vector<nlohmann::json>& rows, const Scenario& scenario) {
  nlohmann::json out = rows.size() == 1 ? rows[0] : nlohmann::json{{"results", rows}};
  out["scenario"] = scenario.ToJson();
  return out;
}

}  // namespace eonops::twin
