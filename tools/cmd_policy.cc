// `eonops policy`: a trained policy served over gRPC (proto/policy_server.h).
//
//   eonops policy serve --model rmsa-nsfnet@champion --tracking http://tracking:5000 --port 50052
//   eonops policy serve --policy-dir runs/42/policy
//   eonops policy info grpc://127.0.0.1:50052
//
// With --model, the alias is polled (--poll-ms) and a newly promoted version is served without
// a restart. The PCE and evaluators use it through proto::RemotePolicy (`--policy grpc://...`).
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "proto/policy_server.h"
#include "proto/policy_source.h"
#include "proto/remote_policy.h"
#include "proto/rpc.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tracking/errors.h"
#include "tracking/http_client.h"
#include "tracking/server.h"

namespace eonops::tools {
namespace {

int Serve(int argc, char** argv) {
  ArgParser p("eonops policy serve",
              "Serve a trained policy as PolicyService (batched inference, model info).");
  p.Add("policy-dir", "DIR", "an exported policy artifact directory");
  p.Add("model", "NAME[@ALIAS]",
        "a registered model: the version ALIAS (default champion) points at");
  p.Add("tracking", "URL", "tracking server for --model (e.g. http://127.0.0.1:5000)");
  p.Add("cache", "DIR", "where registry versions are copied to", "./policy-cache");
  p.Add("poll-ms", "MS", "re-resolve the alias this often and serve a new version (0: never)",
        "10000");
  p.Add("token-file", "FILE", "bearer token for the tracking server (first token in the file)");
  p.Add("host", "ADDR", "address to bind (loopback unless told otherwise; 0.0.0.0 for all)",
        "127.0.0.1");
  p.Add("port", "N", "TCP port (0: any free port)", "50052");
  p.Add("threads", "N", "policy replicas: Infer calls answered at once", "2");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.PositionalArgs().empty())
    throw UsageError("unexpected argument '" + p.PositionalArgs()[0] + "'");
  if (p.Has("policy-dir") == p.Has("model"))
    throw UsageError("give exactly one of --policy-dir and --model");
  if (p.Has("model") && !p.Has("tracking")) throw UsageError("--model needs --tracking URL");
  proto::PolicyServerOptions o;
  o.host = p.Get("host");
  const long long port = p.GetInt("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be within 0..65535");
  o.port = static_cast<int>(port);
  const long long threads = p.GetInt("threads");
  if (threads < 1 || threads > 256) throw UsageError("--threads must be within 1..256");
  o.replicas = static_cast<int>(threads);
  const long long poll_ms = p.GetInt("poll-ms");
  if (poll_ms < 0) throw UsageError("--poll-ms must not be negative");
  if (!proto::IsLoopbackHost(o.host)) {
    std::cerr << "eonops policy: warning: listening on " << o.host
              << " without authentication or TLS: keep it on a private network\n";
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  proto::PolicyServer server(o);
  std::unique_ptr<proto::RegistryWatcher> watcher;
  tracking::HttpClientOptions http;
  if (p.Has("token-file")) {
    const auto tokens = tracking::LoadTokenFile(p.Get("token-file"));
    if (tokens.empty()) throw UsageError("--token-file " + p.Get("token-file") + " holds no token");
    http.token = tokens.front().token;
  }
  if (p.Has("policy-dir")) {
    server.Load(p.Get("policy-dir"), {});
  } else {
    proto::ModelRef ref;
    try {
      ref = proto::ParseModelRef(p.Get("model"));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    tracking::TrackingHttpClient client(p.Get("tracking"), http);
    try {
      server.Load(proto::FetchRegisteredPolicy(client, ref, p.Get("cache")));
    } catch (const tracking::TrackingError& e) {
      throw std::runtime_error("model " + p.Get("model") + " from " + p.Get("tracking") + ": " +
                               tracking::ErrorCodeName(e.code()) + ": " + e.what());
    }
    if (poll_ms > 0 && ref.version == 0) {
      watcher = std::make_unique<proto::RegistryWatcher>(
          p.Get("tracking"), ref, p.Get("cache"), std::chrono::milliseconds(poll_ms),
          server.Current().version,
          [&server](const proto::FetchedPolicy& f) {
            server.Load(f);
            std::cout << "eonops policy: now serving " << f.info.name << " version "
                      << f.info.version << std::endl;
          },
          [](const std::string& error) {
            std::cerr << "eonops policy: registry poll: " << error << std::endl;
          });
    }
  }
  const int bound = server.Start();
  const proto::ServedModelInfo info = server.Current();
  std::cout << "eonops policy: serving " << info.name
            << (info.version ? " version " + std::to_string(info.version) : "") << " on " << o.host
            << ":" << bound << " (" << o.replicas << " replicas)" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "eonops policy: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  watcher.reset();
  server.Stop();
  return 0;
}

int Info(int argc, char** argv) {
  ArgParser p("eonops policy info", "Print what a policy server serves.");
  p.Positional("grpc://HOST:PORT", "the policy server", 1, 1);
  p.Add("deadline-ms", "MS", "deadline of each call", "2000");
  p.AddSwitch("manifest", "also print the manifest JSON");
  if (!p.Parse(argc, argv)) return 0;
  proto::RemotePolicyOptions o;
  o.deadline = std::chrono::milliseconds(p.GetInt("deadline-ms"));
  o.connect_timeout = o.deadline;
  auto policy = proto::RemotePolicy::Connect(p.PositionalArgs()[0], o);
  const proto::ServedModelInfo& i = policy->info();
  const agents::Manifest& m = policy->manifest();
  std::cout << "endpoint     " << policy->endpoint() << "\n"
            << "model        " << i.name
            << (i.version ? " version " + std::to_string(i.version) : "") << "\n"
            << "run          " << i.run_id << "\n"
            << "source       " << i.source << "\n"
            << "algorithm    " << m.algorithm << " on " << m.env_name << " (" << m.observation_size
            << " observations, " << m.num_actions << " actions)\n";
  if (p.Switch("manifest")) std::cout << agents::ToJson(m).dump(2) << "\n";
  return 0;
}

const char kUsage[] =
    "usage: eonops policy <serve|info> [flags]\n"
    "  serve   serve a policy (a directory or a registered model's alias) over gRPC\n"
    "  info    print what a policy server serves\n";

}  // namespace

int RunPolicy(int argc, char** argv) {
  return RunSubcommand(argc, argv, kUsage, {{"serve", Serve}, {"info", Info}});
}

}  // namespace eonops::tools
