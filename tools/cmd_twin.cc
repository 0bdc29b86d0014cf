// `eonops twin`: remote twin workers for distributed training (proto/twin_server.h).
//
//   eonops twin serve --host 127.0.0.1 --port 50051 --threads 8
//   eonops twin health host1:50051,host2:50051
//
// A learner uses the workers with `eonops train CONFIG --twins host1:50051,host2:50051`.
#include <pthread.h>
#include <signal.h>

#include <iomanip>
#include <iostream>
#include <string>
#include <thread>

#include "proto/remote_twin.h"
#include "proto/rpc.h"
#include "proto/twin_server.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace eonops::tools {
namespace {

int Serve(int argc, char** argv) {
  ArgParser p(
      "eonops twin serve",
      "Serve TwinService: batches of environments that learners open, reset and step over gRPC.");
  p.Add("host", "ADDR", "address to bind (loopback unless told otherwise; 0.0.0.0 for all)",
        "127.0.0.1");
  p.Add("port", "N", "TCP port (0: any free port)", "50051");
  p.Add("threads", "N", "threads stepping one batch's environments (default: the machine's cores)");
  p.Add("max-envs", "N", "environments open at once over all batches", "65536");
  p.Add("idle-timeout", "S", "close a batch no call touched for S seconds", "600");
  p.Add(
      "configs", "DIR",
      "configs/ directory (topologies, bands, ...); default $EONOPS_CONFIGS or the source tree's");
  p.AddSwitch("quiet", "do not log batches opened, closed and expired");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.PositionalArgs().empty())
    throw UsageError("unexpected argument '" + p.PositionalArgs()[0] + "'");
  proto::TwinServerOptions o;
  o.host = p.Get("host");
  const long long port = p.GetInt("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be within 0..65535");
  o.port = static_cast<int>(port);
  const long long threads =
      p.Has("threads") ? p.GetInt("threads") : std::max(1u, std::thread::hardware_concurrency());
  if (threads < 1 || threads > 1024) throw UsageError("--threads must be within 1..1024");
  o.threads = static_cast<int>(threads);
  o.max_envs = p.GetInt("max-envs");
  if (o.max_envs < 1) throw UsageError("--max-envs must be positive");
  const long long idle = p.GetInt("idle-timeout");
  if (idle < 1) throw UsageError("--idle-timeout must be positive");
  o.idle_timeout = std::chrono::seconds(idle);
  o.config_dir = p.Has("configs") ? p.Get("configs") : "";
  o.log = !p.Switch("quiet");
  if (!proto::IsLoopbackHost(o.host)) {
    std::cerr << "eonops twin: warning: listening on " << o.host
              << " without authentication or TLS: keep it on a private network\n";
  }

  // SIGINT/SIGTERM go to the sigwait below (blocked before gRPC starts its threads).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  proto::TwinServer server(o);
  const int bound = server.Start();
  std::cout << "eonops twin: serving TwinService on " << o.host << ":" << bound << " (" << o.threads
            << " threads, up to " << o.max_envs << " environments)" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "eonops twin: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  server.Stop();
  return 0;
}

int Health(int argc, char** argv) {
  ArgParser p("eonops twin health",
              "Ask twin workers how they are; exit 1 if any does not answer.");
  p.Positional("HOST:PORT[,HOST:PORT...]", "workers", 1, -1);
  p.Add("deadline-ms", "MS", "deadline of each call", "2000");
  if (!p.Parse(argc, argv)) return 0;
  proto::RpcOptions o;
  o.deadline = std::chrono::milliseconds(p.GetInt("deadline-ms"));
  int failed = 0;
  for (const std::string& list : p.PositionalArgs()) {
    std::vector<std::string> endpoints;
    try {
      endpoints = proto::ParseEndpoints(list);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    for (const std::string& e : endpoints) {
      try {
        const proto::TwinWorkerHealth h = proto::CheckTwinWorker(e, o);
        std::cout << h.endpoint << "  " << h.status << "  eonops " << h.version << "  threads "
                  << h.threads << "  batches " << h.open_batches << "  envs " << h.open_envs
                  << "  steps " << h.steps_served << "  up " << std::fixed << std::setprecision(0)
                  << h.uptime_s << " s\n";
      } catch (const proto::RpcError& err) {
        std::cout << e << "  DOWN  " << err.what() << "\n";
        ++failed;
      }
    }
  }
  return failed ? 1 : 0;
}

const char kUsage[] =
    "usage: eonops twin <serve|health> [flags]\n"
    "  serve   a twin worker: environments for remote learners (eonops train --twins)\n"
    "  health  ask workers for their status\n";

}  // namespace

int RunTwin(int argc, char** argv) {
  return RunSubcommand(argc, argv, kUsage, {{"serve", Serve}, {"health", Health}});
}

}  // namespace eonops::tools
