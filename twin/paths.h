// Candidate paths: the k shortest loopless paths by length (Yen's algorithm on Boost.Graph),
// computed once per ordered node pair and cached.
//
//   PathTable paths(topology, /*k=*/5, PathOrder::kLength);
//   for (const Path& p : paths.Get(0, 13)) ...   // p.fibres, p.length_km, p.hops
//
// The candidate set is always the k shortest by length; PathOrder::kHops reorders that set by
// hop count (ties by length), which changes KSP-FF blocking a lot on NSFNET (benchmarks.md).
#pragma once

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

enum class PathOrder { kLength, kHops };
PathOrder ParsePathOrder(const std::string& s);  // "length" | "hops"; throws otherwise
const char* ToString(PathOrder o);

// Yen's k shortest loopless paths by length between src and dst (fewer when fewer exist).
std::vector<Path> KShortestPaths(const Topology& topology, int src, int dst, int k);
// A path through the given node sequence; throws std::invalid_argument when two consecutive
// nodes are not joined by a fibre or a node repeats.
Path PathFromNodes(const Topology& topology, const std::vector<int>& nodes);

class PathTable {
 public:
  PathTable(const Topology& topology, int k, PathOrder order = PathOrder::kLength);
  const std::vector<Path>& Get(int src, int dst) const {
    return paths_[static_cast<size_t>(src) * n_ + dst];
  }
  int k() const { return k_; }
  PathOrder order() const { return order_; }
  int NumNodes() const { return n_; }

 private:
  int n_, k_;
  PathOrder order_;
  std::vector<std::vector<Path>> paths_;
};

}  // namespace eonops::twin
