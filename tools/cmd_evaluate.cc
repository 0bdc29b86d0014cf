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

// The baselines a use case is judged against by default: every classic rule, the capacity-loss
// ones included, and the use case's own.
std::string DefaultHeuristics(twin::UseCase u) {
  const std::string classic = "ksp-ff,ff-ksp,ksp-bf,ksp-ef,ksp-mscl,mscl-ksp";
  switch (u) {
    case twin::UseCase::kDeepRmsa:
      return classic;
    case twin::UseCase::kLatencyRsa:
      return classic + ",latency-aware";
    case twin::UseCase::kQotRmbsa:
      return classic + ",qot-aware";
    case twin::UseCase::kEnergyRmsa:
      return classic + ",energy-aware";
  }
  return classic;
}

// Mean and 95% CI of the per-seed differences a - b (paired: same seeds, same traffic).
twin::Estimate PairedDifference(const std::vector<twin::SimulationResult>& a,
                                const std::vector<twin::SimulationResult>& b,
                                double (*metric)(const twin::SimulationResult&)) {
  std::vector<double> d;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(metric(a[i]) - metric(b[i]));
  return twin::MeanCi(d);
}
double Blocking(const twin::SimulationResult& r) { return r.blocking.mean; }
double BitRateBlocking(const twin::SimulationResult& r) { return r.bit_rate_blocking; }
double Power(const twin::SimulationResult& r) { return r.power_mean_w; }

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
        "baselines, comma-separated (default: ksp-ff, ff-ksp, ksp-bf, ksp-ef, ksp-mscl, mscl-ksp and the use case's own)");
  p.Add("baseline-orders", "LIST", "path orders the heuristics run with: length, hops, hops-se",
        "length,hops,hops-se");
  p.Add("baseline-k", "LIST", "candidate paths the heuristics run with, e.g. 5,50 (default: the policy's K)");
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
  std::vector<int> ks;
  for (const auto& k : SplitList(p.Has("baseline-k") ? p.Get("baseline-k") : std::to_string(env.network.k_paths))) {
    try {
      ks.push_back(std::stoi(k));
    } catch (const std::exception&) {
      throw UsageError("--baseline-k: '" + k + "' is not a number");
    }
    if (ks.back() < 1 || ks.back() > 64) throw UsageError("--baseline-k: K must be in 1..64");
  }
  // One model per (path order, K): the candidate set a baseline runs on.
  std::map<std::string, std::shared_ptr<const twin::NetworkModel>> order_models;
  auto baseline_key = [](const std::string& order, int k) { return order + "/k" + std::to_string(k); };
  for (const auto& o : orders) {
    for (int k : ks) {
      twin::NetworkOptions options = env.network;
      try {
        options.path_order = twin::ParsePathOrder(o);
      } catch (const std::exception& e) {
        throw UsageError("--baseline-orders: " + std::string(e.what()));
      }
      options.k_paths = k;
      order_models[baseline_key(o, k)] =
          options.path_order == env.network.path_order && k == env.network.k_paths
              ? model
              : std::make_shared<const twin::NetworkModel>(options);
    }
  }
  for (const auto& h : heuristics) {
    if (!twin::IsHeuristicName(h)) {
      try {
        twin::MakeHeuristic(h);
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    }
  }
  twin::HeuristicOptions heuristic_options = twin::HeuristicOptions::ForTraffic(env.traffic);
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
    std::string name, heuristic, model_key;
  };
  std::vector<Kind> kinds = {{"drl", "", ""}};
  for (const auto& h : heuristics) {
    for (const auto& o : orders) {
      for (int k : ks) {
        const std::string key = baseline_key(o, k);
        kinds.push_back({h + "/" + (ks.size() > 1 ? key : o), h, key});
      }
    }
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
          // A heuristic per job: the capacity-loss rules keep per-state caches.
          row.runs[s] = twin::Simulate(order_models.at(kind.model_key), traffic,
                                       *twin::MakeHeuristic(kind.heuristic, heuristic_options), opt);
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
  // Paired differences against the best baseline of each load: the same seeds give the same
  // arrivals to every policy, so the per-seed difference carries far less noise than the two
  // blocking figures apart. The verdict needs the whole 95% CI on one side of zero.
  if (seeds >= 2 && kinds.size() > 1) {
    std::cout << "\npaired differences, drl minus the best baseline of each load (per-seed, 95% CI):\n";
    for (size_t li = 0; li < loads.size(); ++li) {
      const Row& drl_row = rows[li];
      size_t best = 1;
      for (size_t ki = 2; ki < kinds.size(); ++ki) {
        if (Summarise(rows[ki * loads.size() + li]).blocking.mean <
            Summarise(rows[best * loads.size() + li]).blocking.mean) {
          best = ki;
        }
      }
      const Row& base = rows[best * loads.size() + li];
      const twin::Estimate db = PairedDifference(drl_row.runs, base.runs, Blocking);
      const twin::Estimate dbr = PairedDifference(drl_row.runs, base.runs, BitRateBlocking);
      const twin::Estimate dp = PairedDifference(drl_row.runs, base.runs, Power);
      const char* verdict = db.mean + db.ci95 < 0 ? "drl blocks less"
                            : db.mean - db.ci95 > 0 ? "drl blocks MORE"
                                                    : "no significant difference";
      std::cout << "  load " << drl_row.load << ": best baseline " << base.policy << "; blocking "
                << std::showpos << std::setprecision(4) << db.mean << std::noshowpos << " +- " << db.ci95
                << " (" << verdict << "), bit-rate blocking " << std::showpos << dbr.mean << std::noshowpos
                << " +- " << dbr.ci95 << ", power " << std::showpos << std::setprecision(6) << dp.mean
                << std::noshowpos << " +- " << dp.ci95 << " W\n";
      if (csv) {
        csv << "drl-minus-" << base.policy << "," << drl_row.load << "," << seeds << ",," << db.mean << ","
            << db.ci95 << ",paired-seeds," << dbr.mean << "," << dbr.ci95 << "," << dp.mean << "," << dp.ci95
            << ",\n";
      }
    }
  }
  return 0;
}

}  // namespace eonops::tools
