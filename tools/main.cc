// eonops: one executable, one subcommand per job.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "tools/args.h"
#include "tools/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

// Keep in the order data flows: configs -> twin -> agents -> tracking -> pce -> tapi.
const Command kCommands[] = {
    {"paths", eonops::tools::RunPaths, "list the k shortest paths between two nodes"},
    {"simulate", eonops::tools::RunSimulate, "replay the twin under dynamic traffic with heuristics"},
    {"train", eonops::tools::RunTrain, "train a DRL agent on the twin (PPO or DQN) and export its policy"},
    {"evaluate", eonops::tools::RunEvaluate, "blocking of a trained policy against the heuristics, over loads and seeds"},
    {"qot", eonops::tools::RunQot, "GSNR, latency and energy of a lightpath (or `qot line`)"},
    {"twin", eonops::tools::RunTwin, "remote twin worker for distributed training (twin serve)"},
    {"tracking", eonops::tools::RunTracking, "experiment tracking + model registry server (MLflow API, web UI)"},
    {"policy", eonops::tools::RunPolicy, "serve a trained policy over gRPC (policy serve)"},
    {"pce", eonops::tools::RunPce, "path computation element over ONF TAPI RESTCONF (pce serve)"},
    {"loadgen", eonops::tools::RunLoadgen, "drive a PCE with Poisson create/delete traffic over TAPI"},
    {"lifecycle", eonops::tools::RunLifecycle, "the closed MLOps loop around a PCE: KPIs, drift, retraining, promotion, rollback"},
};

void PrintUsage(std::ostream& out) {
  out << "usage: eonops <command> [flags]   (eonops <command> --help for its flags)\n\ncommands:\n";
  for (const auto& c : kCommands) out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    PrintUsage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 2, argv + 2);
    } catch (const eonops::tools::UsageError& e) {
      std::cerr << "eonops " << c.name << ": " << e.what() << "\n"
                << "run 'eonops " << c.name << " --help' for usage\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "eonops " << c.name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "eonops: unknown command '" << argv[1] << "'\n";
  PrintUsage(std::cerr);
  return 2;
}
