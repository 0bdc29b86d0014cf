// eonops train: train a masked PPO or DQN agent on one of the twin's environments, from an
// experiment file (configs/experiments/), with periodic evaluation against KSP-FF on the same
// seeds, resumable checkpoints and an exported policy artifact.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "agents/distributed.h"
#include "agents/es.h"
#include "agents/options.h"
#include "agents/policy.h"
#include "agents/policy_heuristic.h"
#include "agents/run_logger.h"
#include "agents/trainer.h"
#include "proto/remote_twin.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "tools/tracking_logger.h"
#include "twin/envs.h"
#include "twin/scenario.h"
#include "twin/simulator.h"

namespace eonops::tools {

namespace {

namespace fs = std::filesystem;

std::string RunId(const agents::ExperimentConfig& cfg) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return cfg.name + "-seed" + std::to_string(cfg.train.seed) + "-" + stamp;
}

std::string Percent(double x) {
  if (std::isnan(x)) return "n/a";
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << 100 * x << "%";
  return out.str();
}

std::string Fixed(double x) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << x;
  return out.str();
}

std::string Compact(double x) {
  std::ostringstream out;
  if (x >= 1e6) {
    out << std::fixed << std::setprecision(2) << x / 1e6 << "M";
  } else if (x >= 1e3) {
    out << std::fixed << std::setprecision(1) << x / 1e3 << "k";
  } else {
    out << std::fixed << std::setprecision(0) << x;
  }
  return out.str();
}

// Exports the trained policy to `policy_dir` (`export_to`), logs it as the run's artifact, ends the
// run, and registers it when a tracking store is configured; returns what was registered ("" if
// nothing). Every algorithm finishes this way.
std::string PublishPolicy(const std::function<void(const std::string&)>& export_to,
                          const std::string& policy_dir, agents::RunLogger& logger, TrackingSink* sink, const ArgParser& p,
                          const twin::EnvConfig& env, const std::string& run_id) {
  export_to(policy_dir);
  logger.LogArtifact(policy_dir, "policy");
  logger.EndRun(agents::RunStatus::kFinished);
  if (!sink) return "";
  const std::string model_name =
      p.Has("register") ? p.Get("register") : std::string(twin::ToString(env.env.use_case)) + "-" + env.network.topology;
  const int64_t version = sink->RegisterPolicy(model_name, run_id, "policy", p.Has("alias") ? p.Get("alias") : "");
  return model_name + " version " + std::to_string(version) + (p.Has("alias") ? " (alias " + p.Get("alias") + ")" : "");
}

}  // namespace

// Evolution strategies (agents/es.h): generations of simulations instead of environment steps,
// with the same outputs as the other algorithms (policy, checkpoint, log, registration).
int TrainEs(const agents::ExperimentConfig& cfg, std::shared_ptr<const twin::NetworkModel> model,
            const twin::EnvConfig& env, const agents::TrainerSetup& trainer_setup, agents::RunLogger& logger,
            TrackingSink* sink, const ArgParser& p, const std::string& out, const std::string& run_id) {
  const std::string checkpoint_dir = out + "/checkpoint";
  fs::create_directories(checkpoint_dir);
  agents::EsSetup setup;
  setup.checkpoint_path = checkpoint_dir + "/es_state.json";
  setup.logger = &logger;
  setup.run_id = run_id;
  setup.threads = cfg.train.env_threads;
  if (p.Has("init-policy")) setup.init_policy_dir = p.Get("init-policy");
  ProgressBar bar("train es");
  setup.on_progress = [&](const agents::EsProgress& pr) {
    std::ostringstream detail;
    detail << "generation " << pr.generation << "/" << pr.generations << ", mean blocking "
           << Percent(pr.mean_blocking) << ", " << Compact(pr.simulated_requests_per_second)
           << " simulated requests/s";
    bar.Update(double(pr.generation) / pr.generations, detail.str());
    if (!isatty(fileno(stderr))) std::cout << "train " << detail.str() << std::endl;
  };
  if (trainer_setup.hooks.evaluate) {
    setup.evaluate = [&](const agents::Policy& policy, int generation) {
      return trainer_setup.hooks.evaluate(policy, generation);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  agents::EsTrainer es(cfg, model, env, setup);
  if (p.Switch("resume")) {
    es.LoadCheckpoint(setup.checkpoint_path);
    std::cerr << "resumed from " << setup.checkpoint_path << " at generation " << es.generation() << "\n";
  }
  try {
    es.Train();
  } catch (...) {
    logger.EndRun(agents::RunStatus::kFailed);
    throw;
  }
  const std::string policy_dir = out + "/policy";
  const std::string registered = PublishPolicy([&](const std::string& dir) { es.ExportPolicy(dir); },
                                                policy_dir, logger, sink, p, env, run_id);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "trained " << cfg.name << " (es, seed " << cfg.train.seed << ") to generation " << es.generation()
            << " in " << std::fixed << std::setprecision(1) << seconds << " s ("
            << es.MakeManifest().train_steps << " simulated requests, " << cfg.train.env_threads << " thread(s))\n"
            << "policy:     " << policy_dir << "\n"
            << "checkpoint: " << setup.checkpoint_path << "\n"
            << "log:        " << out << "/log.jsonl (run " << run_id << ")\n"
            << (registered.empty() ? "" : "registered: " + registered + "\n")
            << "next:       eonops evaluate --policy " << policy_dir << " --seeds 5\n";
  return 0;
}

int RunTrain(int argc, char** argv) {
  ArgParser p(
      "eonops train",
      "Train a masked PPO or DQN agent on the twin from an experiment file, evaluate it\n"
      "periodically against KSP-FF on the same seeds, checkpoint it, and export the policy\n"
      "(OUT/policy: manifest.json + weights.pt) for `eonops evaluate` and the PCE. Example:\n"
      "  eonops train configs/experiments/deeprmsa-nsfnet-ppo.json --steps 1000000 --threads 2");
  p.Positional("EXPERIMENT", "experiment JSON (configs/experiments/*.json)", 1, 1);
  p.Add("seed", "N", "override train.seed");
  p.Add("steps", "N", "override train.total_steps (environment steps)");
  p.Add("schedule-steps", "N",
        "horizon of the learning-rate / epsilon schedules (default: --steps); give the final length when "
        "training in legs, so --resume continues the schedule of one straight run");
  p.Add("threads", "N", "torch intra-op threads (train.torch_threads)");
  p.Add("env-threads", "N", "environment worker threads (train.env_threads)");
  p.Add("envs", "N", "parallel environments (train.num_envs)");
  p.Add("twins", "HOST:PORT,...",
        "step the environments on remote twin workers (eonops twin serve)");
  p.Add("world-size", "N",
        "data-parallel PPO over N learner processes (default $WORLD_SIZE, else 1); --steps is "
        "the total over all of them");
  p.Add("rank", "R", "this process's rank, 0..N-1 (default $RANK); rank 0 logs, checkpoints "
        "and exports the policy");
  p.Add("master", "HOST:PORT",
        "rank 0's rendezvous address (default $MASTER_ADDR:$MASTER_PORT, else 127.0.0.1:29500)");
  p.Add("dist-timeout", "S", "seconds a rank waits for the others before failing", "120");
  p.Add("out", "DIR", "output directory (default out/<experiment>-seed<N>)");
  p.AddSwitch("resume", "continue from OUT/checkpoint");
  p.Add("init-policy", "DIR",
        "es only: start from this exported policy's scorer instead of the prior (same scorer "
        "architecture; a linear scorer trained on another network fits); with es.generations 0 "
        "it is evaluated zero-shot");
  p.Add("eval-requests", "N",
        "counted requests of each periodic evaluation (after the experiment's warm-up); 0 = none",
        "20000");
  p.Add("eval-baseline", "NAME", "heuristic the periodic evaluations compare with, on the same seed", "ksp-ff");
  p.Add("eval-seed", "N", "seed of the periodic evaluations (the same for policy and KSP-FF)",
        "1000");
  p.Add("tracking", "URL", "log the run to a tracking server (eonops tracking serve)");
  p.Add("tracking-db", "FILE|URL",
        "log the run to a tracking store in-process: a SQLite file or a postgresql:// URL");
  p.Add("artifacts", "DIR", "artifact root with --tracking-db", "./artifacts");
  p.Add("token-file", "FILE", "bearer token for a tracking server that requires one");
  p.Add("experiment", "NAME", "tracking experiment (default: the experiment file's name)");
  p.Add("register", "MODEL", "registered model for the policy (default <use case>-<topology>)");
  p.Add("alias", "ALIAS", "point this alias of the registered model at the new version (e.g. champion)");
  if (!p.Parse(argc, argv)) return 0;
  if (p.Has("tracking") && p.Has("tracking-db")) throw UsageError("give --tracking or --tracking-db, not both");
  const bool tracked = p.Has("tracking") || p.Has("tracking-db");
  if (!tracked && (p.Has("register") || p.Has("alias") || p.Has("experiment"))) {
    throw UsageError("--register, --alias and --experiment need --tracking or --tracking-db");
  }

  const std::string path = p.PositionalArgs().at(0);
  agents::ExperimentConfig cfg = agents::LoadExperimentConfig(path);
  if (p.Has("seed")) cfg.train.seed = p.GetUint("seed");
  if (p.Has("steps")) cfg.train.total_steps = p.GetInt("steps");
  if (p.Has("schedule-steps")) cfg.train.schedule_steps = p.GetInt("schedule-steps");
  if (cfg.train.schedule_steps < 0) throw UsageError("--schedule-steps must not be negative");
  if (p.Has("threads")) cfg.train.torch_threads = static_cast<int>(p.GetInt("threads"));
  if (p.Has("env-threads")) cfg.train.env_threads = static_cast<int>(p.GetInt("env-threads"));
  if (p.Has("envs")) cfg.train.num_envs = static_cast<int>(p.GetInt("envs"));
  if (cfg.train.total_steps <= 0) throw UsageError("--steps must be positive");
  if (cfg.train.torch_threads < 1 || cfg.train.env_threads < 1 || cfg.train.num_envs < 1) {
    throw UsageError("--threads, --env-threads and --envs must be positive");
  }
  agents::DistributedOptions dist;
  try {
    dist = agents::DistributedOptionsFromEnvironment();
    if (p.Has("world-size")) dist.world_size = static_cast<int>(p.GetInt("world-size"));
    if (p.Has("rank")) dist.rank = static_cast<int>(p.GetInt("rank"));
    if (p.Has("master")) agents::ParseMaster(p.Get("master"), &dist);
    dist.timeout = std::chrono::seconds(p.GetInt("dist-timeout"));
    agents::ValidateDistributedOptions(dist);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const bool lead = dist.rank == 0;  // the rank that logs, checkpoints and exports
  if (dist.world_size > 1) {
    if (cfg.train.algorithm != agents::Algorithm::kPpo)
      throw UsageError("--world-size > 1 needs a PPO experiment (data-parallel PPO)");
    // --steps is the run's budget: each rank takes its share.
    cfg.train.total_steps = (cfg.train.total_steps + dist.world_size - 1) / dist.world_size;
  }
  const std::string out =
      p.Has("out") ? p.Get("out") : "out/" + cfg.name + "-seed" + std::to_string(cfg.train.seed);
  const std::string checkpoint_dir = out + "/checkpoint";
  if (p.Switch("resume") && !fs::exists(checkpoint_dir + "/state.json") &&
      !fs::exists(checkpoint_dir + "/es_state.json")) {
    throw UsageError("--resume: no checkpoint in " + checkpoint_dir);
  }
  if (lead) fs::create_directories(out);

  // Every PPO minibatch allocates and frees the same few 0.25-1 MB tensors; with glibc's default
  // (dynamic) mmap threshold part of them went to mmap/munmap, and the page faults of fresh pages
  // cost about 10% of a PPO run (perf: clear_page, exc_page_fault). Keeping them on the heap
  // removes that (15.3k -> 17.0k steps/s on deeprmsa-nsfnet-ppo.json, 2 cores).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  const twin::EnvConfig env = twin::EnvConfig::FromJson(cfg.twin, path);
  const twin::Scenario scenario = twin::Scenario::FromJson(cfg.twin, path);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  twin::VecEnv::Factory factory = twin::MakeEnvFactory(model, env);

  if (lead) {
    std::ofstream resolved(out + "/config.json");
    resolved << agents::ToJson(cfg).dump(2) << "\n";
  }
  // Ranks other than 0 write nothing: their log goes nowhere.
  std::ofstream log_file;
  if (lead) log_file.open(out + "/log.jsonl", std::ios::app);
  if (lead && !log_file) throw std::runtime_error("cannot write " + out + "/log.jsonl");
  // A resumed run keeps its id, so its log and tracking history continue.
  std::string run_id = RunId(cfg);
  if (p.Switch("resume")) {
    std::ifstream state(checkpoint_dir + "/state.json");
    const nlohmann::json j = nlohmann::json::parse(state, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("run_id") && j["run_id"].is_string() &&
        !j["run_id"].get<std::string>().empty()) {
      run_id = j["run_id"].get<std::string>();
    }
  }
  // With tracking, the store's run id names the run everywhere (log, manifest, registry).
  std::unique_ptr<TrackingSink> sink;
  std::unique_ptr<TrackingRunLogger> tracked_logger;
  if (tracked && lead) {
    std::string token;
    if (p.Has("token-file")) {
      std::ifstream tf(p.Get("token-file"));
      if (!tf) throw UsageError("--token-file: cannot read " + p.Get("token-file"));
      std::getline(tf, token);
    }
    sink = OpenTrackingSink(p.Has("tracking") ? p.Get("tracking") : "", p.Has("tracking-db") ? p.Get("tracking-db") : "",
                            p.Get("artifacts"), token);
    tracked_logger = std::make_unique<TrackingRunLogger>(*sink, p.Has("experiment") ? p.Get("experiment") : cfg.name,
                                                         run_id, p.Switch("resume") ? run_id : "");
    run_id = tracked_logger->RunId();
  }
  agents::JsonLinesRunLogger json_logger(log_file, run_id);
  std::unique_ptr<TeeRunLogger> tee;
  if (tracked_logger) tee = std::make_unique<TeeRunLogger>(json_logger, *tracked_logger);
  agents::RunLogger& logger = tee ? static_cast<agents::RunLogger&>(*tee) : json_logger;
  logger.SetTag("experiment_file", path);
  if (dist.world_size > 1) {
    logger.SetTag("distributed.world_size", std::to_string(dist.world_size));
    logger.SetTag("distributed.steps_are", "per rank (the run's total is world_size times them)");
  }

  // Periodic evaluation: the greedy policy and KSP-FF on the same requests (same seed),
  // through the simulator. KSP-FF's figure is computed once.
  const int64_t eval_requests = p.GetInt("eval-requests");
  const std::string eval_baseline = p.Get("eval-baseline");
  if (!twin::IsHeuristicName(eval_baseline)) throw UsageError("--eval-baseline: unknown heuristic '" + eval_baseline + "'");
  twin::SimulationOptions eval;
  eval.requests = eval_requests;
  eval.warmup = scenario.measurement.warmup;
  eval.batch_size =
      std::max<int64_t>(1, std::min(scenario.measurement.batch_size, eval_requests / 4));
  eval.seed = p.GetUint("eval-seed");
  std::optional<double> kspff_blocking;

  ProgressBar bar("train");
  agents::TrainerSetup setup;
  if (p.Has("twins")) {
    // Same seeds, same trajectories: environment i lives on a worker but is seeded as locally.
    // Each vector step is one call per worker for all of its environments; a dead worker fails
    // the step naming it.
    const std::vector<std::string> workers = proto::ParseEndpoints(p.Get("twins"));
    const int num_envs = cfg.train.num_envs;
    setup.make_envs = [workers, env, num_envs, run_id](uint64_t seed) {
      proto::TwinClientOptions options;
      options.client_name = "eonops train " + run_id;
      return std::unique_ptr<twin::BatchedEnv>(
          proto::ConnectTwins(workers, env, num_envs, seed, options));
    };
  }
  std::unique_ptr<agents::DataParallelGroup> group;
  if (dist.world_size > 1) {
    std::cerr << "rank " << dist.rank << " of " << dist.world_size << ": joining at "
              << dist.master_host << ":" << dist.master_port << std::endl;
    group = agents::DataParallelGroup::Join(dist);
    setup.data_parallel = group.get();
  }
  setup.checkpoint_dir = lead ? checkpoint_dir : "";
  setup.logger = lead ? &logger : nullptr;
  setup.run_id = run_id;
  setup.hooks.on_progress = [&](const agents::Progress& pr) {
    std::ostringstream detail;
    detail << Compact(pr.env_steps) << "/" << Compact(pr.total_steps) << " steps, "
           << Compact(pr.steps_per_second) << " steps/s, reward "
           << (std::isnan(pr.mean_episode_reward) ? std::string("n/a")
                                                  : Fixed(pr.mean_episode_reward))
           << ", blocking " << Percent(pr.blocking);
    bar.Update(std::min(1.0, double(pr.env_steps) / pr.total_steps), detail.str());
    if (!isatty(fileno(stderr))) std::cout << "train " << detail.str() << std::endl;
  };
  if (eval_requests > 0 && lead) {
    setup.hooks.evaluate = [&](const agents::Policy& policy, int64_t step) {
      agents::PolicyHeuristic drl(policy, model, env);
      twin::SimulationResult r = twin::Simulate(model, env.traffic, drl, eval);
      if (!kspff_blocking) {
        const twin::HeuristicOptions ho = twin::HeuristicOptions::ForTraffic(env.traffic);
        kspff_blocking =
            twin::Simulate(model, env.traffic, *twin::MakeHeuristic(eval_baseline, ho), eval).blocking.mean;
      }
      std::cerr << (isatty(fileno(stderr)) ? "\n" : "") << "eval @ " << Compact(step)
                << " steps: blocking " << Percent(r.blocking.mean) << " +- "
                << Percent(r.blocking.ci95) << " (" << eval_baseline << " " << Percent(*kspff_blocking)
                << ", same seed), power " << r.power_mean_w << " W" << std::endl;
      return std::map<std::string, double>{{"blocking", r.blocking.mean},
                                           {"blocking_ci95", r.blocking.ci95},
                                           {"blocking_" + eval_baseline, *kspff_blocking},
                                           {"power_w", r.power_mean_w}};
    };
  }

  if (p.Has("init-policy") && cfg.train.algorithm != agents::Algorithm::kEs) {
    throw UsageError("--init-policy starts an es run; this experiment's train.algorithm is not es");
  }
  if (cfg.train.algorithm == agents::Algorithm::kEs) {
    if (dist.world_size > 1 || p.Has("twins")) {
      throw UsageError("train.algorithm es runs its simulations in-process (--env-threads); not with --world-size or --twins");
    }
    return TrainEs(cfg, model, env, setup, logger, sink.get(), p, out, run_id);
  }

  agents::Trainer trainer(cfg, factory, setup);
  if (p.Switch("resume")) {
    trainer.LoadCheckpoint(checkpoint_dir);
    std::cerr << "resumed from " << checkpoint_dir << " at " << trainer.env_steps() << " steps\n";
    // Past the checkpoint's schedule horizon the schedules are extended (or restarted when they
    // had ended); say so, it changes what the run learns.
    for (const std::string& note : trainer.ExtendSchedules(cfg.train.total_steps)) {
      std::cerr << "note: " << note << "\n";
    }
  }
  agents::TrainResult r;
  try {
    r = trainer.Train();
  } catch (...) {
    if (lead) logger.EndRun(agents::RunStatus::kFailed);
    throw;
  }
  if (!lead) {
    std::cout << "rank " << dist.rank << " trained " << r.env_steps << " steps in " << std::fixed
              << std::setprecision(1) << r.elapsed_s << " s (" << Compact(r.steps_per_second)
              << " steps/s); rank 0 holds the run\n";
    return 0;
  }
  const std::string policy_dir = out + "/policy";
  const std::string registered = PublishPolicy([&](const std::string& dir) { trainer.ExportPolicy(dir); },
                                                policy_dir, logger, sink.get(), p, env, run_id);

  std::cout << "trained " << cfg.name << " (" << agents::ToString(cfg.train.algorithm) << ", seed "
            << cfg.train.seed << ") to " << r.env_steps << " steps in " << std::fixed
            << std::setprecision(1) << r.elapsed_s << " s (" << Compact(r.steps_per_second)
            << " steps/s, " << cfg.train.torch_threads << " torch thread(s)"
            << (dist.world_size > 1 ? "; per rank, x " + std::to_string(dist.world_size) +
                                          " ranks = " +
                                          Compact(r.steps_per_second * dist.world_size) +
                                          " steps/s in all"
                                    : "")
            << "); training blocking "
            << Percent(r.blocking) << "\n"
            << "policy:     " << policy_dir << "\n"
            << "checkpoint: " << checkpoint_dir << "\n"
            << "log:        " << out << "/log.jsonl (run " << run_id << ")\n"
            << (registered.empty() ? "" : "registered: " + registered + "\n")
            << "next:       eonops evaluate --policy " << policy_dir << " --seeds 5\n";
  return 0;
}

}  // namespace eonops::tools
