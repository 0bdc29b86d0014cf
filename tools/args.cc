#include "tools/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace eonops::tools {

ArgParser::ArgParser(std::string command, std::string description)
    : command_(std::move(command)), description_(std::move(description)) {}

ArgParser& ArgParser::Add(const std::string& name, const std::string& value_name,
                          const std::string& help, const std::string& default_value) {
  flags_.push_back({name, value_name, help, default_value, false});
  return *this;
}

ArgParser& ArgParser::AddSwitch(const std::string& name, const std::string& help) {
  flags_.push_back({name, "", help, "", true});
  return *this;
}

ArgParser& ArgParser::Positional(const std::string& names, const std::string& help, int min,
                                 int max) {
  positional_names_ = names;
  positional_help_ = help;
  positional_min_ = min;
  positional_max_ = max;
  return *this;
}

const ArgParser::Flag& ArgParser::Find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return f;
  }
  throw UsageError("unknown flag --" + name);
}

std::string ArgParser::Help() const {
  std::ostringstream out;
  out << "usage: " << command_ << " [flags]";
  if (!positional_names_.empty()) out << " " << positional_names_;
  out << "\n\n" << description_ << "\n";
  if (!positional_names_.empty()) out << "\n  " << positional_names_ << "\n      " << positional_help_ << "\n";
  out << "\nflags:\n";
  for (const auto& f : flags_) {
    std::string lhs = "--" + f.name + (f.is_switch ? "" : " " + f.value_name);
    out << "  " << lhs << "\n      " << f.help;
    if (!f.default_value.empty()) out << " (default: " << f.default_value << ")";
    out << "\n";
  }
  out << "  --help\n      print this help\n";
  return out.str();
}

bool ArgParser::Parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << Help();
      return false;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      if (arg.size() > 1 && arg[0] == '-' && arg != "-") throw UsageError("unknown flag " + arg);
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const Flag& flag = Find(name);
    if (flag.is_switch) {
      if (has_inline) throw UsageError("--" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= argc) throw UsageError("--" + name + " needs a value (" + flag.value_name + ")");
      value = argv[++i];
    }
    if (value.empty()) throw UsageError("--" + name + " needs a non-empty value");
    values_[name] = value;
  }
  int n = static_cast<int>(positional_.size());
  if (n < positional_min_ || (positional_max_ >= 0 && n > positional_max_)) {
    if (positional_names_.empty()) throw UsageError("unexpected argument '" + positional_[0] + "'");
    throw UsageError("expected " + positional_names_ + ", got " + std::to_string(n) +
                     " positional argument(s)");
  }
  return true;
}

bool ArgParser::Has(const std::string& name) const {
  const Flag& f = Find(name);
  return values_.count(name) > 0 || !f.default_value.empty();
}

bool ArgParser::Switch(const std::string& name) const {
  Find(name);
  return values_.count(name) > 0;
}

std::string ArgParser::Get(const std::string& name) const {
  const Flag& f = Find(name);
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  if (f.default_value.empty()) throw UsageError("--" + name + " is required");
  return f.default_value;
}

double ArgParser::GetDouble(const std::string& name) const {
  std::string text = Get(name);
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end == text.c_str() || *end != '\0' || !std::isfinite(v)) {
    throw UsageError("--" + name + " expects a number, got '" + text + "'");
  }
  return v;
}

long long ArgParser::GetInt(const std::string& name) const {
  std::string text = Get(name);
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') {
    throw UsageError("--" + name + " expects an integer, got '" + text + "'");
  }
  return v;
}

unsigned long long ArgParser::GetUint(const std::string& name) const {
  long long v = GetInt(name);
  if (v < 0) throw UsageError("--" + name + " must not be negative, got " + std::to_string(v));
  return static_cast<unsigned long long>(v);
}

int RunSubcommand(int argc, char** argv, const char* usage, std::initializer_list<Subcommand> subcommands) {
  if (argc < 1 || std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") {
    (argc < 1 ? std::cerr : std::cout) << usage;
    return argc < 1 ? 2 : 0;
  }
  const std::string sub = argv[0];
  for (const Subcommand& s : subcommands) {
    if (sub == s.name) return s.run(argc - 1, argv + 1);
  }
  throw UsageError("unknown subcommand '" + sub + "'\n" + usage);
}

std::vector<long long> ParseIntList(const std::string& flag, const std::string& text) {
  std::vector<long long> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || errno != 0 || *end != '\0') {
      throw UsageError("--" + flag + " expects a comma-separated list of integers, got '" + text + "'");
    }
    out.push_back(v);
  }
  if (out.empty()) throw UsageError("--" + flag + " is empty");
  return out;
}

std::vector<double> ParseRange(const std::string& flag, const std::string& text) {
  auto number = [&](const std::string& s) {
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || errno != 0 || *end != '\0' || !std::isfinite(v)) {
      throw UsageError("--" + flag + " expects FROM:TO:STEP or a comma list, got '" + text + "'");
    }
    return v;
  };
  std::vector<double> out;
  if (text.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ':')) parts.push_back(item);
    if (parts.size() != 3) throw UsageError("--" + flag + " expects FROM:TO:STEP, got '" + text + "'");
    double from = number(parts[0]), to = number(parts[1]), step = number(parts[2]);
    if (step <= 0 || to < from) {
      throw UsageError("--" + flag + " needs STEP > 0 and TO >= FROM, got '" + text + "'");
    }
    for (int i = 0;; ++i) {
      double v = from + i * step;
      if (v > to + 1e-9 * std::abs(to)) break;
      out.push_back(v);
      if (out.size() > 10000) throw UsageError("--" + flag + " gives more than 10000 values");
    }
  } else {
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(number(item));
  }
  if (out.empty()) throw UsageError("--" + flag + " is empty");
  return out;
}

}  // namespace eonops::tools
