// A small declarative flag parser for the eonops subcommands.
//
//   ArgParser p("eonops qot", "Print a lightpath's GSNR, latency and energy.");
//   p.Add("topology", "NAME|FILE", "topology name under configs/topologies or a file", "nsfnet");
//   p.AddSwitch("json", "print JSON");
//   if (!p.Parse(argc, argv)) return 0;  // --help was printed
//   int width = p.GetInt("width");
//
// Unknown flags, missing values and unparsable numbers throw UsageError, which main() turns
// into a one-line message and exit code 2.
#pragma once

#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace eonops::tools {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string description);

  // A flag taking a value (`--name VALUE` or `--name=VALUE`). An empty default means "unset".
  ArgParser& Add(const std::string& name, const std::string& value_name, const std::string& help,
                 const std::string& default_value = "");
  // A boolean switch (`--name`).
  ArgParser& AddSwitch(const std::string& name, const std::string& help);
  // Positional arguments, described for --help; `max` < 0 means any number.
  ArgParser& Positional(const std::string& names, const std::string& help, int min, int max);

  // Returns false when --help was asked for (and printed to stdout).
  bool Parse(int argc, char** argv);
  std::string Help() const;

  bool Has(const std::string& name) const;  // given on the command line or has a default
  bool Switch(const std::string& name) const;
  std::string Get(const std::string& name) const;
  double GetDouble(const std::string& name) const;
  long long GetInt(const std::string& name) const;
  unsigned long long GetUint(const std::string& name) const;
  const std::vector<std::string>& PositionalArgs() const { return positional_; }
  const std::string& Command() const { return command_; }

 private:
  struct Flag {
    std::string name, value_name, help, default_value;
    bool is_switch = false;
  };
  const Flag& Find(const std::string& name) const;

  std::string command_, description_;
  std::vector<Flag> flags_;
  std::string positional_names_, positional_help_;
  int positional_min_ = 0, positional_max_ = 0;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// A command with subcommands (`eonops pce serve`, `eonops tracking runs`, ...).
struct Subcommand {
  const char* name;
  int (*run)(int argc, char** argv);
};
// Runs the subcommand named by argv[0] with the arguments after it. No argument prints `usage`
// to stderr and returns 2; --help/-h prints it to stdout and returns 0; an unknown name throws
// UsageError listing `usage`.
int RunSubcommand(int argc, char** argv, const char* usage, std::initializer_list<Subcommand> subcommands);

// Parses "a,b,c" into numbers; throws UsageError naming the flag on a bad element.
std::vector<long long> ParseIntList(const std::string& flag, const std::string& text);
// Parses "from:to:step" (inclusive) or a comma list into loads; throws UsageError.
std::vector<double> ParseRange(const std::string& flag, const std::string& text);

}  // namespace eonops::tools
