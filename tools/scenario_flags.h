// The flags every command that builds a twin shares (simulate, train, evaluate, qot): a
// scenario file and per-field overrides.
#pragma once

#include "tools/args.h"
#include "twin/scenario.h"

namespace eonops::tools {

void AddScenarioFlags(ArgParser& p);
// The scenario a config file holds, the file checked whole by its own reader: a PCE config
// (pce/tapi sections), an experiment (train/ppo/dqn), or a scenario file. Anything else, e.g. a
// modulation table, is refused naming the file.
twin::Scenario LoadScenarioConfig(const std::string& path);
// The scenario file of --config (or the defaults), with every given flag applied on top.
twin::Scenario ScenarioFromFlags(const ArgParser& p);

// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void Update(double fraction, const std::string& detail = "");

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace eonops::tools
