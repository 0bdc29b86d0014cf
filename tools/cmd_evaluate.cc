// eonops evaluate: an exported policy against the heuristics, on the same seeds and loads,
// through the same simulator (the policy is asked like a heuristic: agents/policy_heuristic.h).
#include <atomic>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "agents/policy.h"
#include "agents/policy_heuristic.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "twin/envs.h"
#include "twin/heuristics.h"
#include "twin/scenario.h"
#include "twin/simulator.h"

namespace eonops::tools {

namespace {

// The baselines a use case is judged against by default.
std::string DefaultHeuristics(twin::UseCase u) {
  switch (u) {
    case twin::UseCase::kDeepRmsa:
      return "ksp-ff";
    case twin::UseCase::kLatencyRsa:
      return "ksp-ff,latency-aware";
    case twin::UseCase::kQotRmbsa:
      return "ksp-ff,qot-aware";
    case twin::UseCase::kEnergyRmsa:
      return "ksp-ff,energy-aware";
  }
  return "ksp-ff";
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Row {
  std::string policy;  // "drl" or "<heuristic>/<path order>"
  double load = 0;
  std::vector<twin::SimulationResult> runs;  // one per seed
};

struct Summary {
  twin::Estimate blocking, bit_rate_blocking, power_w;
  double latency_p99_us = 0;
  int64_t requests = 0;
  std::string ci_method;
};

Summary Summarise(const Row& row) {
  Summary s;
  std::vector<double> b, br, pw;
  for (const auto& r : row.runs) {
    b.push_back(r.blocking.mean);
    br.push_back(r.bit_rate_blocking);
    pw.push_back(r.power_mean_w);
    s.latency_p99_us = std::max(s.latency_p99_us, r.latency_p99_us);
    s.requests += r.requests;
  }
  if (row.runs.size() == 1) {  // one seed: the batch-means interval of that run
    s.blocking = row.runs[0].blocking;
    s.bit_rate_blocking = {br[0], 0.0, 1};
    s.power_w = {pw[0], 0.0, 1};
    s.ci_method = "batch-means";
  } else {
    s.blocking = twin::MeanCi(b);
    s.bit_rate_blocking = twin::MeanCi(br);
    s.power_w = twin::MeanCi(pw);
    s.ci_method = "independent-seeds";
  }
  return s;
}

}  // namespace

int RunEvaluate(int argc, char** argv) {
  ArgParser p(
      "eonops evaluate",
      "Evaluate an exported policy against heuristics on the same seeds and loads: every run\n"
      "replays the twin's simulator (warm-up, then counted requests), the policy answering\n"
      "each request like a heuristic. Prints blocking with 95% confidence intervals side by\n"
      "side. Example:\n"
      "  eonops evaluate --policy out/deeprmsa-nsfnet-ppo-seed1/policy --loads 150:350:50 --seeds "
      "5");
  p.Add("policy", "DIR", "policy artifact directory (manifest.json + weights.pt)");
  p.Add("loads", "FROM:TO:STEP",
        "load sweep in Erlang, or a comma list (default: the training load)");
  p.Add("seed", "N", "first random seed", "1");
  p.Add("seeds", "N", "independent seeds per point (CI across seeds when > 1)", "5");
  p.Add("heuristics", "LIST",
        "baselines, comma-separated (default: ksp-ff and the use case's own)");
  p.Add("baseline-orders", "LIST", "path orders the heuristics also run with: length, hops",
        "length,hops");
  p.Add("requests", "N", "counted requests per run (default: the experiment's measurement)");
  p.Add("warmup", "N", "warm-up requests per run (default: the experiment's measurement)");
  p.Add("threads", "N", "runs in parallel (each loads its own copy of the policy)", "1");
  p.Add("torch-threads", "N", "torch intra-op threads", "1");
  p.Add("csv", "FILE", "also write the table as CSV");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.Has("policy")) throw UsageError("--policy DIR is required");

  agents::SetTorchThreads(static_cast<int>(p.GetInt("torch-threads")));
  const std::string policy_dir = p.Get("policy");
  std::unique_ptr<agents::Policy> probe = agents::Policy::Load(policy_dir);
  const agents::Manifest& manifest = probe->manifest();
  const twin::EnvConfig env = agents::EnvConfigOf(manifest);
  const twin::Scenario scenario =
      twin::Scenario::FromJson(manifest.env_config, policy_dir + "/manifest.json");
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  {
    agents::PolicyHeuristic fits(*probe, model, env);  // refuses a misfit before any run
  }

  const std::vector<std::string> heuristics =
      SplitList(p.Has("heuristics") ? p.Get("heuristics") : DefaultHeuristics(env.env.use_case));
  const std::vector<std::string> orders = SplitList(p.Get("baseline-orders"));
  std::map<std::string, std::shared_ptr<const twin::NetworkModel>> order_models;
  for (const auto& o : orders) {
    twin::NetworkOptions options = env.network;
    try {
      options.path_order = twin::ParsePathOrder(o);
    } catch (const std::exception& e) {
      throw UsageError("--baseline-orders: " + std::string(e.what()));
    }
    order_models[o] = options.path_order == env.network.path_order
                          ? model
                          : std::make_shared<const twin::NetworkModel>(options);
  }
  for (const auto& h : heuristics) {
    try {
      twin::MakeHeuristic(h);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  const std::vector<double> loads = p.Has("loads") ? ParseRange("loads", p.Get("loads"))
                                                   : std::vector<double>{env.traffic.load_erlang};
  for (double l : loads) {
    if (!(l > 0)) throw UsageError("loads must be positive");
  }
  const uint64_t first_seed = p.GetUint("seed");
  const int seeds = static_cast<int>(p.GetInt("seeds"));
  const int threads = static_cast<int>(p.GetInt("threads"));
  if (seeds < 1 || seeds > 1000) throw UsageError("--seeds must be in 1..1000");
  if (threads < 1 || threads > 256) throw UsageError("--threads must be in 1..256");
  twin::Measurement measurement = scenario.measurement;
  if (p.Has("requests")) measurement.requests = p.GetInt("requests");
  if (p.Has("warmup")) measurement.warmup = p.GetInt("warmup");
  std::ofstream csv;
  if (p.Has("csv")) {
    csv.open(p.Get("csv"));
    if (!csv) throw std::runtime_error("cannot write " + p.Get("csv"));
  }

  // Rows: the policy, then each heuristic under each path order; every (row, load, seed) a job.
  struct Kind {
    std::string name, heuristic, order;
  };
  std::vector<Kind> kinds = {{"drl", "", ""}};
  for (const auto& h : heuristics) {
    for (const auto& o : orders) kinds.push_back({h + "/" + o, h, o});
  }
  std::vector<Row> rows;
  for (const auto& k : kinds) {
    for (double l : loads) rows.push_back({k.name, l, std::vector<twin::SimulationResult>(seeds)});
  }
  const int64_t jobs = static_cast<int64_t>(rows.size()) * seeds;
  const int64_t per_job = measurement.warmup + measurement.requests;
  std::atomic<int64_t> next{0}, done_requests{0};
  ProgressBar bar("evaluate");
  std::mutex mutex;
  std::exception_ptr error;
  auto worker = [&]() {
    std::unique_ptr<agents::Policy> policy;  // this thread's copy
    std::unique_ptr<agents::PolicyHeuristic> drl;
    for (int64_t job; (job = next++) < jobs;) {
      Row& row = rows[job / seeds];
      const Kind& kind = kinds[(job / seeds) / loads.size()];
      const int s = static_cast<int>(job % seeds);
      twin::TrafficConfig traffic = env.traffic;
      traffic.load_erlang = row.load;
      twin::SimulationOptions opt;
      opt.requests = measurement.requests;
      opt.warmup = measurement.warmup;
      opt.batch_size = measurement.batch_size;
      opt.seed = first_seed + s;
      int64_t reported = 0;
      opt.progress = [&](int64_t d, int64_t) {
        done_requests += d - reported;
        reported = d;
        std::lock_guard<std::mutex> lock(mutex);
        bar.Update(double(done_requests) / (per_job * jobs));
      };
      try {
        if (kind.heuristic.empty()) {
          if (!drl) {
            policy = agents::Policy::Load(policy_dir);
            drl = std::make_unique<agents::PolicyHeuristic>(*policy, model, env);
          }
          row.runs[s] = twin::Simulate(model, traffic, *drl, opt);
        } else {
          row.runs[s] = twin::Simulate(order_models.at(kind.order), traffic,
                                       *twin::MakeHeuristic(kind.heuristic), opt);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  std::cout << "policy " << policy_dir << ": " << manifest.algorithm << " on " << manifest.env_name
            << " (experiment " << manifest.experiment << ", run " << manifest.run_id << ", "
            << manifest.train_steps << " training steps)\n"
            << "topology " << model->topology().name() << ", k=" << model->k() << ", "
            << measurement.requests << " requests after " << measurement.warmup << " warm-up, "
            << seeds << " seed(s) from " << first_seed << "; drl uses the trained path order ("
            << twin::ToString(env.network.path_order) << ")\n";
  std::cout << std::left << std::setw(22) << "policy" << std::right << std::setw(8) << "load"
            << std::setw(12) << "blocking" << std::setw(12) << "+-ci95" << std::setw(12)
            << "bitrate_bp" << std::setw(12) << "power_w" << std::setw(12) << "lat_p99_us"
            << "\n";
  if (csv) {
    csv << "policy,load_erlang,seeds,requests,blocking_probability,blocking_ci95,ci_method,"
           "bit_rate_blocking,bit_rate_blocking_ci95,power_mean_w,power_ci95_w,latency_p99_us\n";
  }
  // Grouped by load, so each load's policy and heuristics read side by side.
  for (size_t li = 0; li < loads.size(); ++li) {
    for (size_t ki = 0; ki < kinds.size(); ++ki) {
      const Row& row = rows[ki * loads.size() + li];
      const Summary s = Summarise(row);
      std::cout << std::left << std::setw(22) << row.policy << std::right << std::setw(8)
                << row.load << std::setw(12) << std::setprecision(5) << s.blocking.mean
                << std::setw(12) << s.blocking.ci95 << std::setw(12) << s.bit_rate_blocking.mean
                << std::setw(12) << std::setprecision(6) << s.power_w.mean << std::setw(12)
                << s.latency_p99_us << "\n";
      if (csv) {
        csv << row.policy << "," << row.load << "," << row.runs.size() << "," << s.requests << ","
            << s.blocking.mean << "," << s.blocking.ci95 << "," << s.ci_method << ","
            << s.bit_rate_blocking.mean << "," << s.bit_rate_blocking.ci95 << "," << s.power_w.mean
            << "," << s.power_w.ci95 << "," << s.latency_p99_us << "\n";
      }
    }
  }
  return 0;
}

}  // namespace eonops::tools
