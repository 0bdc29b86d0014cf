// Helpers for reading config JSON with errors that name the file, the field and the reason.
//
//   const auto& j = ReadJsonFile(path);                  // throws "<path>: <parse error>"
//   double km = RequireNumber(link, "length_km", where);  // throws "<where>.length_km: ..."
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eonops::twin {

// The error every config loader throws: "<file>: <field>: <reason>".
[[noreturn]] void ConfigError(const std::string& where, const std::string& reason);

nlohmann::json ReadJsonFile(const std::string& path);

// A config is checked, never half-read: every reader rejects the members it does not know.
// Throws "<where>: expected an object" unless `j` is one, and "<where>.<key>: unknown key (did
// you mean '<near>'?)" for the first member not in `known`. Keys starting with '_' are comments
// ("_source", "_comment") and always allowed.
void RejectUnknownKeys(const nlohmann::json& j, const std::vector<std::string>& known,
                       const std::string& where);
// The entry of `known` nearest to `key` (edit distance at most 2), or "" when none is near.
std::string NearestKey(const std::string& key, const std::vector<std::string>& known);

const nlohmann::json& Require(const nlohmann::json& j, const std::string& key,
                              const std::string& where);
double RequireNumber(const nlohmann::json& j, const std::string& key, const std::string& where);
// A finite number strictly greater than `min_exclusive`.
double RequirePositive(const nlohmann::json& j, const std::string& key, const std::string& where);
int RequireInt(const nlohmann::json& j, const std::string& key, const std::string& where);
std::string RequireString(const nlohmann::json& j, const std::string& key,
                          const std::string& where);
bool RequireBool(const nlohmann::json& j, const std::string& key, const std::string& where);
double NumberOr(const nlohmann::json& j, const std::string& key, double fallback,
                const std::string& where);

// Stable 64-bit FNV-1a hash of a JSON document's canonical dump, as hex (config hashes in
// manifests).
std::string ConfigHash(const nlohmann::json& j);

}  // namespace eonops::twin
