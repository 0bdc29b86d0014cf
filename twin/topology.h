// A network topology: nodes (ROADMs) and directed fibres (links) made of amplified spans.
//
// Files live in configs/topologies/<name>.json:
//   {"name": "...", "source": "...", "nodes": [{"id": 0, "name": "Seattle", "lat": 47.6,
//    "lon": -122.3}, ...], "links": [{"a": 0, "b": 1, "length_km": 1050,
//    "spans_km": [80, 80, ...] (optional)}, ...]}
// Node ids are 0..N-1 in file order. Each bidirectional link becomes two directed fibres, 2i
// (a->b) and 2i+1 (b->a), each with its own spectrum. Links without explicit spans are cut into
// ceil(length / max_span_km) equal spans, one in-line amplifier after each.
//
//   Topology t = Topology::Load("configs/topologies/nsfnet.json");
//   int fibre = t.FibreBetween(0, 1);   // -1 when there is none
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace eonops::twin {

struct Node {
  int id = 0;
  std::string name;
  std::optional<double> latitude;
  std::optional<double> longitude;
};

// A directed fibre between two ROADMs.
struct Fibre {
  int id = 0;
  int src = 0;
  int dst = 0;
  double length_km = 0.0;
  std::vector<double> spans_km;  // sums to length_km
  int reverse = -1;              // the fibre in the other direction
};

class Topology {
 public:
  static constexpr double kDefaultMaxSpanKm = 80.0;

  // Throws std::runtime_error("<file>: <field>: <reason>") on a bad file.
  static Topology Load(const std::string& path, double max_span_km = kDefaultMaxSpanKm);
  static Topology FromJson(const nlohmann::json& j, const std::string& origin,
                           double max_span_km = kDefaultMaxSpanKm);

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  int NumNodes() const { return static_cast<int>(nodes_.size()); }
  int NumFibres() const { return static_cast<int>(fibres_.size()); }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Fibre>& fibres() const { return fibres_; }
  const Node& node(int id) const { return nodes_.at(id); }
  const Fibre& fibre(int id) const { return fibres_.at(id); }
  int FibreBetween(int src, int dst) const;
  int Degree(int node) const { return static_cast<int>(out_fibres_.at(node).size()); }
  const std::vector<int>& OutFibres(int node) const { return out_fibres_.at(node); }

 private:
  std::string name_, source_;
  std::vector<Node> nodes_;
  std::vector<Fibre> fibres_;
  std::vector<std::vector<int>> out_fibres_;
  std::vector<int> fibre_matrix_;  // src * N + dst -> fibre id or -1
};

// Resolves "nsfnet" to <configs>/topologies/nsfnet.json; a value containing '/' or ending in
// ".json" is taken as a path.
//
// ConfigDir() is where the shipped configs are, found at run time, never a path compiled in:
// $EONOPS_CONFIGS; else, from the directory of the binary this code was loaded from (the eonops
// executable, a Python extension module) and then of the running executable, upwards: the
// installed data directory (<prefix>/bin/eonops -> <prefix>/share/eonops/configs) or a configs/
// beside it (a build tree inside the source tree); else ./configs of the working directory.
std::string ConfigDir();
std::string ResolveTopologyPath(const std::string& name_or_path);
// A path named inside a config file: as it is when absolute, else relative to the directory of
// the file that names it (`origin_file`), or to ConfigDir() for a config not read from a file
// (`origin_file` empty or not a regular file: built in code).
std::string ResolveConfigPath(const std::string& origin_file, const std::string& path);

}  // namespace eonops::twin
