#include "twin/paths.h"

#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>

namespace eonops::twin {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double,
                                                    boost::property<boost::edge_index_t, int>>>;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// Hides the fibres and nodes that Yen's spur search must avoid.
struct Mask {
  const std::vector<char>* removed_fibres = nullptr;
  const std::vector<char>* removed_nodes = nullptr;
  const Graph* g = nullptr;
  bool operator()(const Edge& e) const {
    int id = boost::get(boost::edge_index, *g, e);
    return !(*removed_fibres)[id] && !(*removed_nodes)[boost::target(e, *g)] &&
           !(*removed_nodes)[boost::source(e, *g)];
  }
  bool operator()(int v) const { return !(*removed_nodes)[v]; }
};

constexpr double kHopCost = 1e6;

// `per_fibre` is added to every fibre's km: 0 for shortest by length, kHopCost for fewest hops.
Graph BuildGraph(const Topology& t, double per_fibre) {
  Graph g(t.NumNodes());
  for (const auto& f : t.fibres()) boost::add_edge(f.src, f.dst, {per_fibre + f.length_km, f.id}, g);
  return g;
}

// Dijkstra from src to dst avoiding the masked fibres/nodes; returns fibre ids (empty if none).
std::vector<int> ShortestFibres(const Graph& g, const Topology& t, int src, int dst,
                                const std::vector<char>& removed_fibres,
                                const std::vector<char>& removed_nodes) {
  Mask mask{&removed_fibres, &removed_nodes, &g};
  boost::filtered_graph<Graph, Mask, Mask> fg(g, mask, mask);
  const int n = t.NumNodes();
  std::vector<double> dist(n, std::numeric_limits<double>::infinity());
  std::vector<int> pred(n);
  for (int i = 0; i < n; ++i) pred[i] = i;
  boost::dijkstra_shortest_paths(
      fg, src,
      boost::predecessor_map(boost::make_iterator_property_map(pred.begin(), boost::get(boost::vertex_index, g)))
          .distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, g))));
  // Boost marks unreached vertices by leaving them their own predecessor (and its own
  // "infinity", DBL_MAX, as distance), so test the predecessor, not the distance.
  if (pred[dst] == dst) return {};
  std::vector<int> fibres;
  for (int v = dst; v != src; v = pred[v]) fibres.push_back(t.FibreBetween(pred[v], v));
  std::reverse(fibres.begin(), fibres.end());
  return fibres;
}

Path MakePath(const Topology& t, int src, const std::vector<int>& fibres) {
  Path p;
  p.nodes.push_back(src);
  for (int f : fibres) {
    const Fibre& fib = t.fibre(f);
    p.fibres.push_back(f);
    p.nodes.push_back(fib.dst);
    p.length_km += fib.length_km;
    p.num_amplifiers += static_cast<int>(fib.spans_km.size());
  }
  p.hops = static_cast<int>(fibres.size());
  return p;
}

}  // namespace

PathOrder ParsePathOrder(const std::string& s) {
  if (s == "length") return PathOrder::kLength;
  if (s == "hops") return PathOrder::kHops;
  if (s == "hops-se") return PathOrder::kHopsSe;
  throw std::invalid_argument("path order must be 'length', 'hops' or 'hops-se', got '" + s + "'");
}

const char* ToString(PathOrder o) {
  switch (o) {
    case PathOrder::kLength: return "length";
    case PathOrder::kHops: return "hops";
    case PathOrder::kHopsSe: return "hops-se";
  }
  return "?";
}

std::vector<Path> KShortestPaths(const Topology& t, int src, int dst, int k, PathMetric metric,
                                 const std::vector<char>* removed) {
  const int n = t.NumNodes();
  if (src < 0 || dst < 0 || src >= n || dst >= n) throw std::out_of_range("KShortestPaths: node out of range");
  if (src == dst || k <= 0) return {};
  if (removed && static_cast<int>(removed->size()) != t.NumFibres()) {
    throw std::invalid_argument("KShortestPaths: removed_fibres must have one entry per fibre");
  }
  // Fewest hops with km breaking ties: a per-fibre cost of 1e6 + km is lexicographic as long as
  // a path is shorter than 1e6 km, which every terrestrial topology is.
  Graph g = BuildGraph(t, metric == PathMetric::kHops ? kHopCost : 0.0);
  std::vector<char> no_fibres = removed ? *removed : std::vector<char>(t.NumFibres(), 0);
  std::vector<char> no_nodes(n, 0);
  std::vector<Path> a;  // accepted paths, best first
  auto first = ShortestFibres(g, t, src, dst, no_fibres, no_nodes);
  if (first.empty()) return {};
  a.push_back(MakePath(t, src, first));
  // Candidates ordered by (cost, hops, node sequence) so that ties break deterministically.
  auto key = [metric](const Path& p) {
    return std::make_tuple(metric == PathMetric::kHops ? p.hops * kHopCost + p.length_km : p.length_km, p.hops,
                           p.nodes);
  };
  std::set<std::tuple<double, int, std::vector<int>>> seen;
  std::vector<Path> b;
  seen.insert(key(a[0]));
  for (int kk = 1; kk < k; ++kk) {
    const Path& last = a.back();
    for (size_t i = 0; i + 1 < last.nodes.size(); ++i) {
      const int spur = last.nodes[i];
      std::vector<char> removed_fibres = no_fibres, removed_nodes(n, 0);
      // Remove the next fibre of every accepted path that shares this root.
      for (const Path& p : a) {
        if (p.nodes.size() > i + 1 && std::equal(p.nodes.begin(), p.nodes.begin() + i + 1, last.nodes.begin())) {
          removed_fibres[p.fibres[i]] = 1;
        }
      }
      for (size_t r = 0; r < i; ++r) removed_nodes[last.nodes[r]] = 1;  // keep the root loopless
      auto spur_fibres = ShortestFibres(g, t, spur, dst, removed_fibres, removed_nodes);
      if (spur_fibres.empty()) continue;
      std::vector<int> total(last.fibres.begin(), last.fibres.begin() + i);
      total.insert(total.end(), spur_fibres.begin(), spur_fibres.end());
      Path candidate = MakePath(t, src, total);
      if (seen.insert(key(candidate)).second) b.push_back(std::move(candidate));
    }
    if (b.empty()) break;
    auto best = std::min_element(b.begin(), b.end(), [&](const Path& x, const Path& y) { return key(x) < key(y); });
    a.push_back(std::move(*best));
    b.erase(best);
  }
  return a;
}

Path PathFromNodes(const Topology& t, const std::vector<int>& nodes) {
  if (nodes.size() < 2) throw std::invalid_argument("a path needs at least two nodes");
  std::vector<int> fibres;
  std::set<int> visited;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i] < 0 || nodes[i] >= t.NumNodes()) {
      throw std::invalid_argument("node " + std::to_string(nodes[i]) + " is not in topology " + t.name() +
                                  " (0.." + std::to_string(t.NumNodes() - 1) + ")");
    }
    if (!visited.insert(nodes[i]).second) {
      throw std::invalid_argument("node " + std::to_string(nodes[i]) + " appears twice in the path");
    }
    if (i == 0) continue;
    int f = t.FibreBetween(nodes[i - 1], nodes[i]);
    if (f < 0) {
      throw std::invalid_argument("no fibre between nodes " + std::to_string(nodes[i - 1]) + " and " +
                                  std::to_string(nodes[i]));
    }
    fibres.push_back(f);
  }
  return MakePath(t, nodes[0], fibres);
}

PathTable::PathTable(const Topology& topology, int k, PathOrder order)
    : n_(topology.NumNodes()), k_(k), order_(order) {
  if (k <= 0) throw std::invalid_argument("k must be positive, got " + std::to_string(k));
  paths_.resize(static_cast<size_t>(n_) * n_);
  for (int s = 0; s < n_; ++s) {
    for (int d = 0; d < n_; ++d) {
      if (s == d) continue;
      auto ps = KShortestPaths(topology, s, d, k, order == PathOrder::kLength ? PathMetric::kLength : PathMetric::kHops);
      paths_[static_cast<size_t>(s) * n_ + d] = std::move(ps);
    }
  }
}

void PathTable::SortEachBy(const std::function<double(const Path&)>& key) {
  for (auto& ps : paths_) {
    std::vector<std::tuple<double, int, double, size_t>> order;
    order.reserve(ps.size());
    for (size_t i = 0; i < ps.size(); ++i) order.emplace_back(key(ps[i]), ps[i].hops, ps[i].length_km, i);
    std::sort(order.begin(), order.end());
    std::vector<Path> sorted;
    sorted.reserve(ps.size());
    for (const auto& o : order) sorted.push_back(std::move(ps[std::get<3>(o)]));
    ps = std::move(sorted);
  }
}

}  // namespace eonops::twin
