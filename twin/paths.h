// Candidate paths: k loopless paths per ordered node pair (Yen's algorithm on Boost.Graph),
// computed once and cached.
//
//   PathTable paths(topology, /*k=*/5, PathOrder::kLength);
//   for (const Path& p : paths.Get(0, 13)) ...   // p.fibres, p.length_km, p.hops
//
// The order decides the candidate SET, not only its sort (benchmarks.md: "ordered by hops" in
// the literature is networkx's shortest_simple_paths(weight=None), a different set):
//   length   the k shortest by km, shortest first;
//   hops     the k with the fewest hops, ties by km (Yen on the cost 1e6 per fibre + km);
//   hops-se  the hops set sorted by hops / bits per symbol of the format each path would use
//            (ties: fewer hops, then shorter), as XLRON's "spectral_resources" sort. Sorting
//            needs the modulation table, so NetworkModel applies it (SortBy) after building.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "twin/topology.h"

namespace eonops::twin {

struct Path {
  std::vector<int> nodes;   // src ... dst
  std::vector<int> fibres;  // directed fibre ids along the path
  double length_km = 0.0;
  int hops = 0;
  int num_amplifiers = 0;  // in-line amplifiers (one per span)
  // Fibres whose spectrum a lightpath on this path must also find free at the same slots: the
  // return direction of a bidirectional lightpath with symmetric spectrum (the PCE sets it on
  // its candidate paths). Every spectrum search ORs them in; provisioning takes `fibres` only.
  std::vector<int> paired_fibres;
};

enum class PathOrder { kLength, kHops, kHopsSe };
PathOrder ParsePathOrder(const std::string& s);  // "length" | "hops" | "hops-se"; throws otherwise
const char* ToString(PathOrder o);

// What Yen's algorithm minimises: total km, or hop count with km breaking ties.
enum class PathMetric { kLength, kHops };

// Yen's k shortest loopless paths between src and dst (fewer when fewer exist), by `metric`;
// equal costs are broken by hops, then by the node sequence, so the result is deterministic.
// `removed_fibres` (optional, indexed by fibre id, nonzero = unusable) hides fibres from the
// search, e.g. the PCE's exclude constraints.
std::vector<Path> KShortestPaths(const Topology& topology, int src, int dst, int k,
                                 PathMetric metric = PathMetric::kLength,
                                 const std::vector<char>* removed_fibres = nullptr);
// A path through the given node sequence; throws std::invalid_argument when two consecutive
// nodes are not joined by a fibre or a node repeats.
Path PathFromNodes(const Topology& topology, const std::vector<int>& nodes);

class PathTable {
 public:
  PathTable(const Topology& topology, int k, PathOrder order = PathOrder::kLength);
  const std::vector<Path>& Get(int src, int dst) const {
    return paths_[static_cast<size_t>(src) * n_ + dst];
  }
  // Re-sorts every pair's paths by (key, hops, length_km), evaluating `key` once per path
  // (used for kHopsSe once the formats are known).
  void SortEachBy(const std::function<double(const Path&)>& key);
  int k() const { return k_; }
  PathOrder order() const { return order_; }
  int NumNodes() const { return n_; }

 private:
  int n_, k_;
  PathOrder order_;
  std::vector<std::vector<Path>> paths_;
};

}  // namespace eonops::twin
