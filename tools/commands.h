// The eonops subcommands. Each takes the arguments after its own name and returns the exit
// code; UsageError escapes to main(), which prints it and exits 2.
#pragma once

namespace eonops::tools {

int RunQot(int argc, char** argv);
int RunQotLine(int argc, char** argv);  // `eonops qot line`
int RunPaths(int argc, char** argv);
int RunSimulate(int argc, char** argv);
int RunTracking(int argc, char** argv);
int RunTrain(int argc, char** argv);
int RunEvaluate(int argc, char** argv);
int RunTwin(int argc, char** argv);    // `eonops twin serve|health`
int RunPolicy(int argc, char** argv);  // `eonops policy serve|info`
int RunPce(int argc, char** argv);      // `eonops pce serve`
int RunLoadgen(int argc, char** argv);  // `eonops loadgen`
int RunLifecycle(int argc, char** argv);  // `eonops lifecycle serve|status|register`

}  // namespace eonops::tools
