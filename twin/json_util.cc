#include "twin/json_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace eonops::twin {

void ConfigError(const std::string& where, const std::string& reason) {
  throw std::runtime_error(where + ": " + reason);
}

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) ConfigError(path, "cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    ConfigError(path, std::string("invalid JSON: ") + e.what());
  }
}

std::string NearestKey(const std::string& key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = 3;  // suggest near misses only
  for (const std::string& k : known) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(k.size() + 1);
    for (size_t j = 0; j <= k.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= key.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= k.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (key[i - 1] == k[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    if (row[k.size()] < best_distance) {
      best_distance = row[k.size()];
      best = k;
    }
  }
  return best;
}

void RejectUnknownKeys(const nlohmann::json& j, const std::vector<std::string>& known,
                       const std::string& where) {
  if (!j.is_object()) ConfigError(where, "expected an object, got " + std::string(j.type_name()));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key.rfind('_', 0) == 0 || std::find(known.begin(), known.end(), key) != known.end())
      continue;
    const std::string near = NearestKey(key, known);
    ConfigError(where + "." + key,
                "unknown key" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
  }
}

const nlohmann::json& Require(const nlohmann::json& j, const std::string& key,
                              const std::string& where) {
  if (!j.is_object()) ConfigError(where, "expected an object");
  auto it = j.find(key);
  if (it == j.end()) ConfigError(where + "." + key, "missing");
  return *it;
}

double RequireNumber(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = Require(j, key, where);
  if (!v.is_number()) ConfigError(where + "." + key, "expected a number, got " + v.dump());
  double d = v.get<double>();
  if (!std::isfinite(d)) ConfigError(where + "." + key, "not a finite number");
  return d;
}

double RequirePositive(const nlohmann::json& j, const std::string& key, const std::string& where) {
  double d = RequireNumber(j, key, where);
  if (!(d > 0)) ConfigError(where + "." + key, "must be positive, got " + j.at(key).dump());
  return d;
}

int RequireInt(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = Require(j, key, where);
  if (!v.is_number_integer()) ConfigError(where + "." + key, "expected an integer, got " + v.dump());
  // get<int>() would wrap: 4294967336 slots would be read as 40 (found by fuzz_config's check
  // that a loader keeps the numbers it is given).
  const bool fits =
      v.is_number_unsigned()
          ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max())
          : v.get<int64_t>() >= std::numeric_limits<int>::min() &&
                v.get<int64_t>() <= std::numeric_limits<int>::max();
  if (!fits) ConfigError(where + "." + key, "out of range, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

bool RequireBool(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const auto& v = Require(j, key, where);
  if (!v.is_boolean()) ConfigError(where + "." + key, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

std::string RequireString(const nlohmann::json& j, const std::string& key,
                          const std::string& where) {
  const auto& v = Require(j, key, where);
  if (!v.is_string()) ConfigError(where + "." + key, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

double NumberOr(const nlohmann::json& j, const std::string& key, double fallback,
                const std::string& where) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  return RequireNumber(j, key, where);
}

std::string ConfigHash(const nlohmann::json& j) {
  const std::string s = j.dump();  // nlohmann sorts object keys: canonical
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace eonops::twin
