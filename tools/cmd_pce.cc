// `eonops pce serve`: the path computation element with its TAPI RESTCONF interface.
//
//   eonops pce serve --config configs/pce.json --host 127.0.0.1 --port 8080
//       [--token-file F] [--tracking http://127.0.0.1:5000 | --tracking-db eonops.db --artifacts
//       DIR]
//       [--state-db pce-state.db] [--policy-dir DIR]
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include "pce/pce.h"
#include "proto/remote_policy.h"
#include "tapi/server.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/tracking_flags.h"
#include "tracking/server.h"
#include "tracking/store.h"
#include "twin/topology.h"

namespace eonops::tools {

namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Serve(int argc, char** argv) {
  ArgParser p(
      "eonops pce serve",
      "Serve the path computation element over ONF TAPI 2.1/2.4 RESTCONF: topology context,\n"
      "compute-p-2-p-path, connectivity services; the registry's champion policy per use case "
      "with\n"
      "the configured heuristic as fallback; services kept in SQLite across restarts.\n"
      "Example:\n"
      "  eonops pce serve --config configs/pce.json --tracking http://127.0.0.1:5000 --port 8080");
  p.Add("config", "FILE",
        "PCE config (network/traffic/env/pce/tapi sections); default: pce.json of the data "
        "directory ($EONOPS_CONFIGS, <prefix>/share/eonops/configs, or ./configs)",
        twin::ConfigDir() + "/pce.json");
  p.Add("host", "ADDR", "address to bind (loopback unless told otherwise)", "127.0.0.1");
  p.Add("port", "N", "TCP port (0: any free port)", "8080");
  p.Add("token-file", "FILE", "bearer tokens for writes, one '[user] token' per line");
  AddTrackingFlags(p);
  p.Add("state-db", "FILE", "SQLite file for services and computed paths (':memory:' for none)",
        "pce-state.db");
  p.Add("policy-dir", "DIR", "serve this policy artifact directory (no registry needed)");
  p.Add("policy", "grpc://HOST:PORT", "serve the policy of a remote policy service (eonops policy serve)");
  p.Add("use-case", "NAME", "use case of --policy-dir or --policy (default: the config's default use case)");
  p.Add("model", "NAME",
        "registered model to serve for the default use case (overrides the config)");
  p.Add("alias", "NAME", "alias of --model", "champion");
  p.Add("fallback", "NAME",
        "fallback heuristic (overrides the config): sp-ff, ksp-ff, ksp-bf, ...");
  p.Add("threads", "N", "HTTP worker threads (overrides the config)");
  p.AddSwitch("no-decision-log", "do not log decisions to the tracking store");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.PositionalArgs().empty())
    throw UsageError("unexpected argument '" + p.PositionalArgs()[0] + "'");

  pce::PceConfig config = pce::PceConfig::Load(p.Get("config"));
  if (p.Has("fallback")) {
    try {
      twin::MakeHeuristic(p.Get("fallback"));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    config.pce.fallback = p.Get("fallback");
    config.pce.fallback_by_use_case.clear();
  }
  if (p.Has("model")) {
    pce::PolicyBinding b;
    b.use_case = config.pce.default_use_case;
    b.model = p.Get("model");
    b.alias = p.Get("alias");
    auto& list = config.pce.policies;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const auto& x) { return x.use_case == b.use_case; }),
               list.end());
    list.push_back(b);
  }
  if (p.Switch("no-decision-log")) config.pce.decision_log.enabled = false;
  tapi::TapiServerOptions so = tapi::TapiServerOptions::FromConfig(config);
  so.host = p.Get("host");
  const long long port = p.GetInt("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be within 0..65535");
  so.port = static_cast<int>(port);
  if (p.Has("token-file")) so.token_file = p.Get("token-file");
  if (p.Has("threads")) {
    const long long t = p.GetInt("threads");
    if (t < 1 || t > 1024) throw UsageError("--threads must be within 1..1024");
    so.threads = static_cast<int>(t);
  }
  if (!IsLoopback(so.host) && so.token_file.empty()) {
    std::cerr << "eonops pce: warning: listening on " << so.host
              << " without --token-file: anyone who can reach it can provision\n";
  }
  pce::PceSetup setup;
  setup.state_db = p.Get("state-db") == ":memory:" ? "" : p.Get("state-db");
  std::unique_ptr<tracking::TrackingStore> store;
  std::string tracking_desc;
  setup.tracking = TrackingFromFlags(p, "eonops-pce", &store, &tracking_desc);

  // Block SIGINT/SIGTERM before any thread starts, so that they reach the sigwait below and the
  // PCE shuts down cleanly (the decision log is flushed).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (p.Has("policy-dir") && p.Has("policy")) throw UsageError("give --policy-dir or --policy, not both");
  pce::Pce engine(config, setup);
  if (p.Has("policy-dir") || p.Has("policy")) {
    twin::UseCase u = config.pce.default_use_case;
    if (p.Has("use-case")) {
      try {
        u = twin::ParseUseCase(p.Get("use-case"));
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    }
    if (p.Has("policy-dir")) {
      engine.ServePolicyDir(u, p.Get("policy-dir"));
    } else {
      // The manifest comes with the connection, so the usual compatibility checks apply; each
      // request is then one Infer call with the service's deadline.
      const std::string target = p.Get("policy");
      engine.ServePolicy(u, proto::RemotePolicy::Connect(target), target.rfind("grpc://", 0) == 0 ? target : "grpc://" + target);
    }
  }
  tapi::TapiServer server(engine, so);
  const int bound = server.Start();

  const twin::NetworkModel& m = engine.model();
  std::ostringstream bands;
  for (const auto& b : m.plan().bands())
    bands << (bands.tellp() > 0 ? "," : "") << b.name << "(" << b.num_slots << ")";
  std::cout << "eonops pce: serving TAPI on http://" << so.host << ":" << bound
            << "/restconf (topology " << m.topology().name() << ": " << m.topology().NumNodes()
            << " nodes, " << m.topology().NumFibres() << " directed links, bands " << bands.str()
            << ", k=" << m.k() << ")\n";
  std::cout << "  state " << (setup.state_db.empty() ? "in memory only" : setup.state_db) << ": "
            << engine.ListServices().size() << " services, " << engine.ListComputedPaths().size()
            << " computed paths restored\n";
  std::cout << "  tracking " << tracking_desc << ", decision log "
            << (engine.decision_log()
                    ? "run in experiment '" + config.pce.decision_log.experiment + "'"
                    : std::string("off"))
            << "\n";
  std::cout << "  fallback " << config.pce.fallback << ", writes "
            << (so.token_file.empty() ? "open" : "need a bearer token") << "\n";
  for (const auto& st : engine.Policies()) {
    std::cout << "  policy " << twin::ToString(st.use_case) << ": "
              << (st.served ? st.served->Label() : std::string("none (heuristic only)"));
    if (!st.binding.model.empty())
      std::cout << " <- " << st.binding.model << "@" << st.binding.alias;
    if (!st.note.empty()) std::cout << "; " << st.note;
    if (!st.last_error.empty()) std::cout << " [" << st.last_error << "]";
    std::cout << "\n";
  }
  std::cout << std::flush;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "eonops pce: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  server.Stop();
  return 0;
}

const char kUsage[] =
    "usage: eonops pce <serve> [flags]\n"
    "  serve   the path computation element over TAPI RESTCONF (eonops pce serve --help)\n";

}  // namespace

int RunPce(int argc, char** argv) { return RunSubcommand(argc, argv, kUsage, {{"serve", Serve}}); }

}  // namespace eonops::tools
