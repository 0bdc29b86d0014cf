// `eonops lifecycle`: the closed MLOps loop around a PCE (lifecycle/service.h).
//
//   eonops lifecycle serve --config configs/lifecycle.json --pce http://127.0.0.1:8080
//       --tracking http://127.0.0.1:5000 [--tracking-token T] [--state-dir DIR] [--port 8090]
//   eonops lifecycle status [--url http://127.0.0.1:8090] [--json]
//   eonops lifecycle register --tracking URL --model NAME --heuristic ksp-ff [--k 3] [--alias A]
#include <signal.h>

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "agents/manifest.h"
#include "lifecycle/server.h"
#include "lifecycle/service.h"
#include "pce/served_policy.h"
#include "pce/tracking_backend.h"
#include "proto/rpc.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/tracking_flags.h"
#include "tracking/errors.h"
#include "tracking/server.h"
#include "tracking/store.h"
#include "twin/topology.h"

namespace eonops::tools {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::string Clock() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", std::localtime(&t));
  std::ostringstream s;
  s << buf << "." << std::setw(3) << std::setfill('0') << ms;
  return s.str();
}

// The registry is required here.
pce::TrackingConnector Registry(const ArgParser& p, std::unique_ptr<tracking::TrackingStore>* store,
                                std::string* desc) {
  pce::TrackingConnector c = TrackingFromFlags(p, "eonops-lifecycle", store, desc);
  if (!c) throw UsageError("--tracking URL (or --tracking-db FILE) is required");
  return c;
}

int Serve(int argc, char** argv) {
  ArgParser p("eonops lifecycle serve",
              "Watch a PCE's served policies and close the loop: live KPIs per served version,\n"
              "traffic drift against the champion's training scenario, retraining on a calibrated\n"
              "twin, shadow replay, gated promotion and automatic rollback, all recorded in the\n"
              "tracking registry. State survives restarts (--state-dir).\n"
              "Example:\n"
              "  eonops lifecycle serve --pce http://127.0.0.1:8080 --tracking http://127.0.0.1:5000");
  p.Add("config", "FILE", "lifecycle config (thresholds, windows, budgets)",
        twin::ConfigDir() + "/lifecycle.json");
  p.Add("pce-config", "FILE", "the PCE's config (default: the lifecycle config's pce_config)");
  p.Add("pce", "URL", "the PCE to watch", "http://127.0.0.1:8080");
  AddTrackingFlags(p);
  p.Add("state-dir", "DIR", "where the loop keeps its state, traces and training checkpoints",
        "lifecycle-state");
  p.Add("host", "ADDR", "address of the status interface (loopback unless told otherwise)",
        "127.0.0.1");
  p.Add("port", "N", "TCP port of the status interface (0: any free port)", "8090");
  p.Add("token-file", "FILE", "bearer tokens for POST /retrain, one '[user] token' per line");
  p.AddSwitch("quiet", "do not print the timeline");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.PositionalArgs().empty())
    throw UsageError("unexpected argument '" + p.PositionalArgs()[0] + "'");
  lifecycle::LifecycleConfig config = lifecycle::LifecycleConfig::Load(p.Get("config"));
  const std::string pce_path = p.Has("pce-config") ? p.Get("pce-config") : config.PceConfigPath();
  pce::PceConfig pce_config = pce::PceConfig::Load(pce_path);
  const long long port = p.GetInt("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be within 0..65535");
  lifecycle::LifecycleServerOptions so;
  so.host = p.Get("host");
  so.port = static_cast<int>(port);
  if (p.Has("token-file")) so.token_file = p.Get("token-file");
  if (!proto::IsLoopbackHost(so.host) && so.token_file.empty())
    std::cerr << "eonops lifecycle: warning: listening on " << so.host
              << " without --token-file: anyone who can reach it can start retraining\n";

  std::unique_ptr<tracking::TrackingStore> store;
  std::string tracking_desc;
  lifecycle::LifecycleSetup setup;
  setup.tracking = Registry(p, &store, &tracking_desc);
  setup.source = lifecycle::HttpTraceSource(p.Get("pce"));
  setup.state_dir = p.Get("state-dir");
  const bool quiet = p.Switch("quiet");
  setup.log = [quiet](const std::string& line) {
    if (!quiet) std::cout << Clock() << "  " << line << std::endl;
  };

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  lifecycle::LifecycleService service(config, pce_config, std::move(setup));
  service.Start();
  lifecycle::LifecycleServer server(service, so);
  const int bound = server.Start();
  std::cout << "eonops lifecycle: watching " << p.Get("pce") << " (" << pce_path << "), registry "
            << tracking_desc << ", state in " << p.Get("state-dir") << "; status on http://"
            << so.host << ":" << bound << "/status" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "eonops lifecycle: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", stopping (an attempt in progress resumes at the next start)" << std::endl;
  server.Stop();
  service.Stop();
  return 0;
}

std::string Percent(const Json& v) {
  if (!v.is_number()) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << 100.0 * v.get<double>() << "%";
  return s.str();
}

std::string Number(const Json& v, int precision = 3) {
  if (!v.is_number()) return "n/a";
  std::ostringstream s;
  s << std::setprecision(precision) << v.get<double>();
  return s.str();
}

std::string When(int64_t ms) {
  if (ms <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

int Status(int argc, char** argv) {
  ArgParser p("eonops lifecycle status",
              "Print what the lifecycle service sees: champion and challenger per use case, the\n"
              "attempt in progress, the watch on a fresh promotion, the last drift figures and the\n"
              "latest decisions.\n"
              "Example:\n"
              "  eonops lifecycle status --url http://127.0.0.1:8090");
  p.Add("url", "URL", "the lifecycle service's status interface", "http://127.0.0.1:8090");
  p.AddSwitch("json", "print the raw JSON");
  if (!p.Parse(argc, argv)) return 0;
  httplib::Client cli(p.Get("url"));
  if (!cli.is_valid()) throw UsageError("--url: cannot use '" + p.Get("url") + "'");
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(30, 0);
  auto r = cli.Get("/status");
  if (!r) {
    std::cerr << "eonops lifecycle status: no lifecycle service at " << p.Get("url") << " ("
              << httplib::to_string(r.error()) << ")\n";
    return 1;
  }
  const Json s = Json::parse(r->body, nullptr, false);
  if (r->status != 200 || s.is_discarded()) {
    std::cerr << "eonops lifecycle status: HTTP " << r->status << ": " << r->body.substr(0, 300) << "\n";
    return 1;
  }
  if (p.Switch("json")) {
    std::cout << s.dump(2) << "\n";
    return 0;
  }
  std::cout << "lifecycle service watching " << s.value("pce", "?") << ": trace at seq "
            << s.value("trace_cursor", 0) << ", " << s.value("live_services", 0)
            << " live services" << (s.value("worker_busy", false) ? ", an attempt is running" : "")
            << "\n";
  if (!s.value("last_error", "").empty()) std::cout << "  last error: " << s["last_error"].get<std::string>() << "\n";
  const Json use_cases = s.value("use_cases", Json::object());  // named: items() borrows it
  for (const auto& [uc, t] : use_cases.items()) {
    std::cout << "\n" << uc << " — model " << t.value("model", "?") << "\n";
    std::cout << "  champion  v" << t.value("champion", 0) << "   challenger "
              << (t["challenger"].is_number() ? "v" + std::to_string(t["challenger"].get<int64_t>())
                                              : std::string("none"))
              << "   serving (trace) " << (t.value("served_version", 0) ? "v" + std::to_string(t["served_version"].get<int64_t>()) : std::string("no policy"))
              << "\n";
    if (t["kpi"].is_object()) {
      const Json& k = t["kpi"];
      std::cout << "  live KPIs (last " << k.value("requests", 0) << " requests): blocking "
                << Percent(k["blocking"]) << ", bit-rate blocking " << Percent(k["bit_rate_blocking"])
                << ", fallbacks " << Percent(k["fallback_rate"]) << ", "
                << Number(k["request_rate_per_s"]) << " req/s, offered load "
                << Number(k["offered_load_erlang"]) << " E, power " << Number(k["network_power_w"], 4)
                << " W\n";
    }
    if (t["last_drift"].is_object()) {
      const Json& d = t["last_drift"];
      std::cout << "  last drift window #" << d.value("window", 0) << ": JS pairs "
                << Number(d["js_pairs"]) << " (threshold " << Number(d["threshold_pairs"])
                << "), JS bit rate " << Number(d["js_bit_rate"]) << ", JS holding "
                << Number(d["js_holding"]) << ", load ratio " << Number(d["load_ratio"])
                << (d.value("drifted", false) ? "  -> DRIFT" : "  -> no drift") << "\n";
    }
    if (t["attempt"].is_object()) {
      const Json& a = t["attempt"];
      std::cout << "  attempt " << a.value("id", "?") << " (" << a.value("kind", "?")
                << "): step " << a.value("step", "?") << ", challenger "
                << (a.value("version", 0) ? "v" + std::to_string(a["version"].get<int64_t>()) : std::string("not yet registered"))
                << (a.value("last_error", "").empty() ? "" : ", last error: " + a["last_error"].get<std::string>())
                << "\n";
    }
    if (t["watch"].is_object()) {
      const Json& w = t["watch"];
      std::cout << "  watching v" << w.value("version", 0) << " against v" << w.value("previous", 0)
                << ": " << w["live"].value("requests", 0) << " requests, blocking "
                << Percent(w["live"]["blocking"]) << " vs baseline " << Percent(w["baseline"]["blocking"])
                << "\n";
    }
    const Json decisions = t.value("decisions", Json::array());
    if (!decisions.empty()) std::cout << "  latest decisions:\n";
    for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
      std::cout << "    " << When(it->value("decided_at", int64_t{0})) << "  " << std::left
                << std::setw(10) << it->value("kind", "?") << std::right << " v"
                << it->value("version", "?") << "  " << it->value("reason", "") << "\n";
    }
  }
  return 0;
}

int Register(int argc, char** argv) {
  ArgParser p("eonops lifecycle register",
              "Register a heuristic (name + parameters, no weights) or a policy artifact directory\n"
              "(weights + manifest, e.g. a shipped one) as a version of a model, so it can be\n"
              "served by the PCE and be the champion the lifecycle loop retrains and defends.\n"
              "Examples:\n"
              "  eonops lifecycle register --tracking http://127.0.0.1:5000 --model deeprmsa-nsfnet "
              "--heuristic ksp-ff --alias champion\n"
              "  eonops lifecycle register --tracking http://127.0.0.1:5000 --model deeprmsa-nsfnet "
              "--policy-dir configs/policies/deeprmsa-nsfnet-es-linear-k50 --alias champion");
  AddTrackingFlags(p);
  p.Add("model", "NAME", "registered model (created when absent)");
  p.Add("heuristic", "NAME", "twin heuristic: sp-ff, ksp-ff, ksp-bf, ksp-lf, ...");
  p.Add("k", "N", "candidate paths it considers (default: all the network's)");
  p.Add("policy-dir", "DIR", "a policy artifact directory: its files are logged to a new run and "
        "registered from there");
  p.Add("alias", "NAME", "point this alias at the new version (e.g. champion)");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.Has("model") || p.Has("heuristic") == p.Has("policy-dir"))
    throw UsageError("--model and one of --heuristic or --policy-dir are required");
  pce::HeuristicSource h;
  agents::Manifest manifest;
  if (p.Has("heuristic")) {
    h.name = p.Get("heuristic");
    if (p.Has("k")) {
      const long long k = p.GetInt("k");
      if (k < 1 || k > 50) throw UsageError("--k must be within 1..50");
      h.k = static_cast<int>(k);
    }
    try {
      pce::HeuristicSource::Parse(h.ToSource());
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  } else {
    if (p.Has("k")) throw UsageError("--k applies to --heuristic only");
    try {
      manifest = agents::ReadManifest(p.Get("policy-dir"));  // a directory with a manifest, or why not
    } catch (const std::exception& e) {
      throw UsageError("--policy-dir: " + std::string(e.what()));
    }
  }
  std::unique_ptr<tracking::TrackingStore> store;
  std::string desc;
  auto reg = Registry(p, &store, &desc)();
  const std::string model = p.Get("model");
  try {
    reg->CreateRegisteredModel(model, "eonops policies for " + model);
  } catch (const tracking::TrackingError& e) {
    if (e.code() != tracking::ErrorCode::kResourceAlreadyExists) throw;
  }
  tracking::ModelVersion v;
  std::string what;
  if (p.Has("heuristic")) {
    what = "heuristic " + h.ToSource();
    v = reg->CreateModelVersion(model, h.ToSource(), "", "heuristic " + h.name + " (name + parameters, no weights)",
                                {{"eonops.policy.kind", "heuristic"}});
  } else {
    // The files go to a run of their own, so the version does not depend on this directory
    // staying where it is (or on the PCE seeing this machine's files).
    const std::string dir = fs::path(p.Get("policy-dir")).lexically_normal().string();
    tracking::CreateRunOptions o;
    o.experiment_id = reg->GetOrCreateExperiment("registered-policies");
    o.run_name = "register " + fs::path(dir).filename().string();
    o.user_id = "eonops-lifecycle";
    o.tags = {{"eonops.kind", "registered-policy"},
              {"eonops.policy.source_dir", dir},
              {"eonops.policy.trained_run", manifest.run_id}};
    const std::string run = reg->CreateRun(o).info.run_id;
    for (const auto& f : fs::directory_iterator(dir))
      if (f.is_regular_file()) reg->LogArtifact(run, f.path().string(), "policy");
    reg->EndRun(run, tracking::RunStatus::kFinished);
    what = "policy " + dir + " (" + manifest.algorithm + ", run " + manifest.run_id + ")";
    v = reg->CreateModelVersion(model, "runs:/" + run + "/policy", run, what,
                                {{"eonops.policy.kind", manifest.algorithm}});
  }
  if (p.Has("alias")) {
    tracking::RecordDecisionRequest r;
    r.name = model;
    r.version = v.version;
    r.kind = "register";
    r.reason = what + " registered by hand as @" + p.Get("alias");
    r.alias = p.Get("alias");
    reg->RecordModelDecision(r);
  }
  std::cout << model << "/" << v.version << "  " << (p.Has("heuristic") ? h.ToSource() : v.source)
            << (p.Has("alias") ? "  @" + p.Get("alias") : std::string()) << "\n";
  return 0;
}

const char kUsage[] =
    "usage: eonops lifecycle <serve|status|register> [flags]\n"
    "  serve      watch a PCE: KPIs, drift, retraining, gated promotion, rollback\n"
    "  status     print the lifecycle service's view (champion, challenger, drift, decisions)\n"
    "  register   register a heuristic or a policy directory as a model version\n";

}  // namespace

int RunLifecycle(int argc, char** argv) {
  return RunSubcommand(argc, argv, kUsage,
                       {{"serve", Serve}, {"status", Status}, {"register", Register}});
}

}  // namespace eonops::tools
