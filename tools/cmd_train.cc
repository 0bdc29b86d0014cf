// eonops train: train a masked PPO or DQN agent on one of the twin's environments, from an
// experiment file (configs/experiments/), with periodic evaluation against KSP-FF on the same
// seeds, resumable checkpoints and an exported policy artifact.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

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

}  // namespace

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
  p.Add("out", "DIR", "output directory (default out/<experiment>-seed<N>)");
  p.AddSwitch("resume", "continue from OUT/checkpoint");
  p.Add("eval-requests", "N",
        "counted requests of each periodic evaluation (after the experiment's warm-up); 0 = none",
        "20000");
  p.Add("eval-seed", "N", "seed of the periodic evaluations (the same for policy and KSP-FF)",
        "1000");
  p.Add("tracking", "URL", "log the run to a tracking server (eonops tracking serve)");
  p.Add("tracking-db", "FILE", "log the run to a tracking SQLite file, in-process");
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
  const std::string out =
      p.Has("out") ? p.Get("out") : "out/" + cfg.name + "-seed" + std::to_string(cfg.train.seed);
  const std::string checkpoint_dir = out + "/checkpoint";
  if (p.Switch("resume") && !fs::exists(checkpoint_dir + "/state.json")) {
    throw UsageError("--resume: no checkpoint in " + checkpoint_dir);
  }
  fs::create_directories(out);

  const twin::EnvConfig env = twin::EnvConfig::FromJson(cfg.twin, path);
  const twin::Scenario scenario = twin::Scenario::FromJson(cfg.twin, path);
  auto model = std::make_shared<const twin::NetworkModel>(env.network);
  twin::VecEnv::Factory factory = twin::MakeEnvFactory(model, env);
  // Same seeds, same trajectories: environment i lives on a worker but is seeded as locally.
  if (p.Has("twins")) {
    // A dead worker throws from Env::Step; VecEnv rethrows it from Step() on the training
    // thread, so the run fails naming the worker whatever env_threads is.
    factory =
        proto::RemoteEnvFactory(proto::ParseEndpoints(p.Get("twins")), env, cfg.train.num_envs);
  }

  {
    std::ofstream resolved(out + "/config.json");
    resolved << agents::ToJson(cfg).dump(2) << "\n";
  }
  std::ofstream log_file(out + "/log.jsonl", std::ios::app);
  if (!log_file) throw std::runtime_error("cannot write " + out + "/log.jsonl");
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
  if (tracked) {
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

  // Periodic evaluation: the greedy policy and KSP-FF on the same requests (same seed),
  // through the simulator. KSP-FF's figure is computed once.
  const int64_t eval_requests = p.GetInt("eval-requests");
  twin::SimulationOptions eval;
  eval.requests = eval_requests;
  eval.warmup = scenario.measurement.warmup;
  eval.batch_size =
      std::max<int64_t>(1, std::min(scenario.measurement.batch_size, eval_requests / 4));
  eval.seed = p.GetUint("eval-seed");
  std::optional<double> kspff_blocking;

  ProgressBar bar("train");
  agents::TrainerSetup setup;
  setup.checkpoint_dir = checkpoint_dir;
  setup.logger = &logger;
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
  if (eval_requests > 0) {
    setup.hooks.evaluate = [&](const agents::Policy& policy, int64_t step) {
      agents::PolicyHeuristic drl(policy, model, env);
      twin::SimulationResult r = twin::Simulate(model, env.traffic, drl, eval);
      if (!kspff_blocking) {
        kspff_blocking =
            twin::Simulate(model, env.traffic, *twin::MakeHeuristic("ksp-ff"), eval).blocking.mean;
      }
      std::cerr << (isatty(fileno(stderr)) ? "\n" : "") << "eval @ " << Compact(step)
                << " steps: blocking " << Percent(r.blocking.mean) << " +- "
                << Percent(r.blocking.ci95) << " (KSP-FF " << Percent(*kspff_blocking)
                << "), power " << r.power_mean_w << " W" << std::endl;
      return std::map<std::string, double>{{"blocking", r.blocking.mean},
                                           {"blocking_ci95", r.blocking.ci95},
                                           {"blocking_ksp-ff", *kspff_blocking},
                                           {"power_w", r.power_mean_w}};
    };
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
    logger.EndRun(agents::RunStatus::kFailed);
    throw;
  }
  const std::string policy_dir = out + "/policy";
  trainer.ExportPolicy(policy_dir);
  logger.LogArtifact(policy_dir, "policy");
  logger.EndRun(agents::RunStatus::kFinished);
  std::string registered;
  if (sink) {
    const std::string model_name =
        p.Has("register") ? p.Get("register") : std::string(twin::ToString(env.env.use_case)) + "-" + env.network.topology;
    const int64_t version = sink->RegisterPolicy(model_name, run_id, "policy", p.Has("alias") ? p.Get("alias") : "");
    registered = model_name + " version " + std::to_string(version) + (p.Has("alias") ? " (alias " + p.Get("alias") + ")" : "");
  }

  std::cout << "trained " << cfg.name << " (" << agents::ToString(cfg.train.algorithm) << ", seed "
            << cfg.train.seed << ") to " << r.env_steps << " steps in " << std::fixed
            << std::setprecision(1) << r.elapsed_s << " s (" << Compact(r.steps_per_second)
            << " steps/s, " << cfg.train.torch_threads << " torch thread(s)); training blocking "
            << Percent(r.blocking) << "\n"
            << "policy:     " << policy_dir << "\n"
            << "checkpoint: " << checkpoint_dir << "\n"
            << "log:        " << out << "/log.jsonl (run " << run_id << ")\n"
            << (registered.empty() ? "" : "registered: " + registered + "\n")
            << "next:       eonops evaluate --policy " << policy_dir << " --seeds 5\n";
  return 0;
}

}  // namespace eonops::tools
