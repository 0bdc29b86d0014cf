// `eonops loadgen`: an SDN controller's traffic against a PCE over TAPI, compared with the twin.
//
//   eonops loadgen --pce http://127.0.0.1:8080 --load 250 --requests 10000 --seed 1
//       [--config configs/pce.json] [--rate 500] [--compare ksp-ff] [--json]
//       [--traffic-matrix FILE] [--phases FILE]
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "tapi/loadgen.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/scenario_flags.h"
#include "tracking/errors.h"
#include "tracking/server.h"
#include "twin/heuristics.h"
#include "twin/simulator.h"
#include "twin/topology.h"

namespace eonops::tools {

namespace {

void PrintLatency(const char* what, const tapi::LatencyStats& s) {
  std::cout << "  " << std::left << std::setw(8) << what << std::right << std::fixed
            << std::setprecision(0) << " p50 " << std::setw(7) << s.p50_us << " us   p90 "
            << std::setw(7) << s.p90_us << " us   p99 " << std::setw(7) << s.p99_us << " us   max "
            << std::setw(8) << s.max_us << " us   (" << s.count << " requests)\n";
}

}  // namespace

int RunLoadgen(int argc, char** argv) {
  ArgParser p("eonops loadgen",
              "Drive a PCE over TAPI with the twin's Poisson create/delete traffic (same generator "
              "and seed as\n"
              "`eonops simulate`) and report blocking and latency percentiles. With the same "
              "network, load, seed\n"
              "and decision rule the PCE's accepted/blocked counts equal the simulator's.\n"
              "Example:\n"
              "  eonops loadgen --pce http://127.0.0.1:8080 --load 250 --requests 10000 --seed 1 "
              "--compare ksp-ff");
  AddScenarioFlags(p);
  p.Add("pce", "URL", "the PCE's base URL", "http://127.0.0.1:8080");
  p.Add("seed", "N", "traffic seed", "1");
  p.Add("rate", "REQ/S", "pace arrivals at this many per second (0: back to back)", "0");
  p.Add("token", "TOKEN", "bearer token for the PCE's writes");
  p.Add("token-file", "FILE", "or: the PCE's token file (its first token is used)");
  p.Add("use-case", "NAME",
        "objective sent with each request (deeprmsa, latency-rsa, qot-rmbsa, energy-rmsa)");
  p.Add("compare", "HEURISTIC",
        "also replay the same traffic in the twin with this heuristic and print both");
  p.Add("traffic-matrix", "FILE",
        "node-pair weights (JSON N x N array) instead of uniform pairs");
  p.Add("phases", "FILE",
        "traffic that changes: {\"phases\": [{\"at_request\": N, \"load_erlang\": L, "
        "\"traffic_matrix\": FILE|\"uniform\"}, ...]}");
  p.AddSwitch("rpc", "create with the create-connectivity-service RPC instead of the data store");
  p.AddSwitch("no-cleanup", "leave the services that are still up at the end");
  p.AddSwitch("json", "print JSON");
  // The scenario defaults to the PCE's own config, so both sides replay the same network.
  std::vector<char*> args(argv, argv + argc);
  bool has_config = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" || a.rfind("--config=", 0) == 0) has_config = true;
  }
  std::string default_config = "--config=" + twin::ConfigDir() + "/pce.json";
  if (!has_config) args.insert(args.begin(), default_config.data());
  if (!p.Parse(static_cast<int>(args.size()), args.data())) return 0;

  tapi::LoadgenOptions o;
  o.pce_url = p.Get("pce");
  o.scenario = ScenarioFromFlags(p);
  o.seed = p.GetUint("seed");
  o.rate_per_s = p.GetDouble("rate");
  if (o.rate_per_s < 0) throw UsageError("--rate must not be negative");
  if (p.Has("token")) o.token = p.Get("token");
  if (p.Has("token-file")) {
    try {
      o.token = tracking::LoadTokenFile(p.Get("token-file")).front().token;
    } catch (const tracking::TrackingError& e) {
      throw UsageError(e.what());
    }
  }
  if (p.Has("use-case")) {
    try {
      o.use_case = twin::ParseUseCase(p.Get("use-case"));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (p.Has("traffic-matrix") || p.Has("phases")) {
    const int nodes = twin::Topology::Load(twin::ResolveTopologyPath(o.scenario.network.topology),
                                           o.scenario.network.max_span_km)
                          .NumNodes();
    try {
      if (p.Has("traffic-matrix"))
        o.scenario.traffic.traffic_matrix = tapi::LoadTrafficMatrix(p.Get("traffic-matrix"), nodes);
      if (p.Has("phases")) o.phases = tapi::LoadTrafficPhases(p.Get("phases"), nodes);
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
    if (p.Has("compare") && !o.phases.empty())
      throw UsageError("--compare replays one traffic: it does not combine with --phases");
  }
  o.rpc = p.Switch("rpc");
  o.cleanup = !p.Switch("no-cleanup");
  std::unique_ptr<twin::Heuristic> compare;
  if (p.Has("compare")) {
    try {
      compare = twin::MakeHeuristic(p.Get("compare"));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  ProgressBar bar("loadgen");
  o.progress = [&](int64_t done, int64_t total) { bar.Update(double(done) / total); };
  tapi::LoadgenResult r = tapi::RunLoadgen(o);

  nlohmann::json twin_result;
  if (compare) {
    twin::SimulationOptions so;
    so.requests = o.scenario.measurement.requests;
    so.warmup = o.scenario.measurement.warmup;
    so.batch_size = o.scenario.measurement.batch_size;
    so.seed = o.seed;
    auto model = std::make_shared<const twin::NetworkModel>(o.scenario.network);
    twin::SimulationResult s = twin::Simulate(model, o.scenario.traffic, *compare, so);
    twin_result = {{"policy", s.policy},
                   {"requests", s.requests},
                   {"accepted", s.accepted},
                   {"blocked", s.blocked},
                   {"blocking_probability", double(s.blocked) / s.requests}};
  }
  if (p.Switch("json")) {
    nlohmann::json out = r.ToJson();
    out["pce"] = o.pce_url;
    out["seed"] = o.seed;
    out["scenario"] = o.scenario.ToJson();
    if (compare) out["twin"] = twin_result;
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "loadgen: " << r.requests << " requests after " << r.warmup << " warm-up, "
              << o.scenario.traffic.load_erlang << " Erlang, seed " << o.seed << ", against "
              << o.pce_url << "\n";
    std::cout << "  accepted " << r.accepted << "   blocked " << r.blocked << "   blocking "
              << std::setprecision(5) << r.blocking;
    if (!r.blocked_by_cause.empty()) {
      std::cout << "   (";
      bool first = true;
      for (const auto& [k, v] : r.blocked_by_cause) {
        std::cout << (first ? "" : ", ") << k << " " << v;
        first = false;
      }
      std::cout << ")";
    }
    std::cout << "\n  decided by";
    for (const auto& [k, v] : r.decided_by) std::cout << "  " << k << " " << v;
    std::cout << "   fell back " << r.fell_back << "\n  policy";
    for (const auto& [k, v] : r.policy_versions) std::cout << "  " << k << " " << v;
    std::cout << "\n";
    if (r.phases.size() > 1) {
      for (const auto& ph : r.phases) {
        std::cout << "  phase '" << ph.label << "' from request " << ph.from_request << ", "
                  << std::fixed << std::setprecision(0) << ph.load_erlang << " Erlang: "
                  << ph.requests << " counted, blocking " << std::setprecision(4) << ph.blocking
                  << std::defaultfloat << "\n";
      }
    }
    PrintLatency("create", r.create);
    PrintLatency("delete", r.remove);
    std::cout << "  wall " << std::setprecision(2) << r.wall_s << " s, " << std::setprecision(0)
              << r.achieved_rate_per_s << " arrivals/s, errors " << r.errors
              << (r.last_error.empty() ? "" : " (last: " + r.last_error + ")") << "\n";
    if (compare) {
      std::cout << "twin (" << twin_result["policy"].get<std::string>()
                << ", same traffic): accepted " << twin_result["accepted"].get<int64_t>()
                << "   blocked " << twin_result["blocked"].get<int64_t>() << "   blocking "
                << std::setprecision(5) << twin_result["blocking_probability"].get<double>()
                << (twin_result["blocked"].get<int64_t>() == r.blocked ? "   (identical)"
                                                                       : "   (differs)")
                << "\n";
    }
  }
  return r.errors == 0 ? 0 : 1;
}

}  // namespace eonops::tools
