#include "twin/topology.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <vector>

#include "twin/json_util.h"

namespace eonops::twin {

Topology Topology::Load(const std::string& path, double max_span_km) {
  return FromJson(ReadJsonFile(path), path, max_span_km);
}

Topology Topology::FromJson(const nlohmann::json& j, const std::string& origin,
                            double max_span_km) {
  if (!(max_span_km > 0)) ConfigError(origin, "max_span_km must be positive");
  Topology t;
  if (!j.is_object()) ConfigError(origin, "expected a JSON object at the top level");
  RejectUnknownKeys(j, {"name", "source", "notes", "nodes", "links"}, origin);
  t.name_ = j.contains("name") ? RequireString(j, "name", origin) : origin;
  t.source_ = j.contains("source") ? RequireString(j, "source", origin) : "";
  if (j.contains("notes")) RequireString(j, "notes", origin);

  const auto& nodes = Require(j, "nodes", origin);
  if (!nodes.is_array() || nodes.empty()) ConfigError(origin + ".nodes", "expected a non-empty array");
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string where = origin + ".nodes[" + std::to_string(i) + "]";
    const auto& n = nodes[i];
    RejectUnknownKeys(n, {"id", "name", "lat", "lon", "ref_id"}, where);
    if (n.contains("ref_id")) RequireInt(n, "ref_id", where);  // the source's numbering
    Node node;
    node.id = RequireInt(n, "id", where);
    if (node.id != static_cast<int>(i)) {
      ConfigError(where + ".id", "node ids must be 0..N-1 in file order, expected " +
                                     std::to_string(i) + ", got " + std::to_string(node.id));
    }
    node.name = n.contains("name") ? RequireString(n, "name", where) : "node " + std::to_string(i);
    if (n.contains("lat") || n.contains("lon")) {
      double lat = RequireNumber(n, "lat", where), lon = RequireNumber(n, "lon", where);
      if (std::abs(lat) > 90) ConfigError(where + ".lat", "latitude out of [-90, 90]");
      if (std::abs(lon) > 180) ConfigError(where + ".lon", "longitude out of [-180, 180]");
      node.latitude = lat;
      node.longitude = lon;
    }
    t.nodes_.push_back(node);
  }
  const int n_nodes = static_cast<int>(t.nodes_.size());

  const auto& links = Require(j, "links", origin);
  if (!links.is_array() || links.empty()) ConfigError(origin + ".links", "expected a non-empty array");
  std::set<std::pair<int, int>> seen;
  for (size_t i = 0; i < links.size(); ++i) {
    const std::string where = origin + ".links[" + std::to_string(i) + "]";
    const auto& l = links[i];
    RejectUnknownKeys(l, {"a", "b", "length_km", "spans_km"}, where);
    int a = RequireInt(l, "a", where), b = RequireInt(l, "b", where);
    if (a < 0 || a >= n_nodes) ConfigError(where + ".a", "unknown node " + std::to_string(a));
    if (b < 0 || b >= n_nodes) ConfigError(where + ".b", "unknown node " + std::to_string(b));
    if (a == b) ConfigError(where, "a link must join two different nodes");
    if (!seen.insert({std::min(a, b), std::max(a, b)}).second) {
      ConfigError(where, "duplicate link " + std::to_string(a) + "-" + std::to_string(b));
    }
    double length_km = RequirePositive(l, "length_km", where);
    std::vector<double> spans;
    if (l.contains("spans_km")) {
      const auto& s = l["spans_km"];
      if (!s.is_array() || s.empty()) ConfigError(where + ".spans_km", "expected a non-empty array");
      double sum = 0;
      for (const auto& x : s) {
        if (!x.is_number() || !(x.get<double>() > 0)) {
          ConfigError(where + ".spans_km", "span lengths must be positive numbers");
        }
        spans.push_back(x.get<double>());
        sum += spans.back();
      }
      if (std::abs(sum - length_km) > 1e-6 * length_km + 1e-9) {
        ConfigError(where + ".spans_km", "spans add up to " + std::to_string(sum) +
                                             " km, not length_km " + std::to_string(length_km));
      }
    } else {
      // Equal spans, none longer than max_span_km: one in-line amplifier after each.
      int n = static_cast<int>(std::ceil(length_km / max_span_km - 1e-9));
      spans.assign(std::max(n, 1), length_km / std::max(n, 1));
    }
    const int id = static_cast<int>(t.fibres_.size());
    t.fibres_.push_back({id, a, b, length_km, spans, id + 1});
    t.fibres_.push_back({id + 1, b, a, length_km, spans, id});
  }

  t.out_fibres_.assign(n_nodes, {});
  t.fibre_matrix_.assign(static_cast<size_t>(n_nodes) * n_nodes, -1);
  for (const auto& f : t.fibres_) {
    t.out_fibres_[f.src].push_back(f.id);
    t.fibre_matrix_[static_cast<size_t>(f.src) * n_nodes + f.dst] = f.id;
  }
  return t;
}

int Topology::FibreBetween(int src, int dst) const {
  const int n = NumNodes();
  if (src < 0 || dst < 0 || src >= n || dst >= n) return -1;
  return fibre_matrix_[static_cast<size_t>(src) * n + dst];
}

std::string ConfigDir() {
  if (const char* env = std::getenv("EONOPS_CONFIGS"); env != nullptr && *env != '\0') return env;
  namespace fs = std::filesystem;
  // bands.json marks a configs directory of eonops (every model needs it).
  auto is_configs = [](const fs::path& d) {
    std::error_code ec;
    return fs::is_regular_file(d / "bands.json", ec);
  };
  // Where this code was loaded from: the eonops executable, or the module that links the twin
  // into another program (the Python extension); then the running executable.
  std::vector<fs::path> from;
  Dl_info info{};
  std::error_code ec;
  if (dladdr(reinterpret_cast<void*>(&ConfigDir), &info) != 0 && info.dli_fname != nullptr &&
      info.dli_fname[0] == '/') {
    from.push_back(fs::canonical(info.dli_fname, ec).parent_path());
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) from.push_back(exe.parent_path());
  for (const fs::path& start : from) {
    for (fs::path d = start; !d.empty(); d = d.parent_path()) {
      if (is_configs(d / "share/eonops/configs")) return (d / "share/eonops/configs").string();
      if (is_configs(d / "configs")) return (d / "configs").string();
      if (d == d.root_path()) break;
    }
  }
  return "configs";  // the working directory's; errors then name configs/<file>
}

std::string ResolveTopologyPath(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos ||
      (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json")) {
    return name_or_path;
  }
  return ConfigDir() + "/topologies/" + name_or_path + ".json";
}

std::string ResolveConfigPath(const std::string& origin_file, const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute()) return path;
  const fs::path file(origin_file);
  if (!origin_file.empty() && fs::is_regular_file(file)) return (file.parent_path() / path).string();
  return ConfigDir() + "/" + path;
}

}  // namespace eonops::twin
