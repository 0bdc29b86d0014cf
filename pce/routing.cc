#include "pce/routing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <set>

namespace eonops::pce {

namespace {

struct Route {
  std::vector<int> nodes, fibres;
  double length_km = 0.0;
  bool operator<(const Route& o) const {
    if (length_km != o.length_km) return length_km < o.length_km;
    return nodes < o.nodes;
  }
};

// Shortest path by length from `src` to `dst` avoiding banned nodes and fibres.
bool Dijkstra(const twin::Topology& t, int src, int dst, const std::vector<char>& banned_node,
              const std::vector<char>& banned_fibre, Route* out) {
  const int n = t.NumNodes();
  std::vector<double> dist(n, std::numeric_limits<double>::infinity());
  std::vector<int> via(n, -1);
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
  dist[src] = 0.0;
  pq.push({0.0, src});
  while (!pq.empty()) {
    auto [d, u] = pq.top();
    pq.pop();
    if (d > dist[u]) continue;
    if (u == dst) break;
    for (int f : t.OutFibres(u)) {
      if (banned_fibre[f]) continue;
      const int v = t.fibre(f).dst;
      if (banned_node[v]) continue;
      const double nd = d + t.fibre(f).length_km;
      // Ties broken by fibre id so the result does not depend on heap order.
      if (nd < dist[v] || (nd == dist[v] && via[v] >= 0 && f < via[v])) {
        dist[v] = nd;
        via[v] = f;
        pq.push({nd, v});
      }
    }
  }
  if (!std::isfinite(dist[dst])) return false;
  out->nodes.clear();
  out->fibres.clear();
  for (int v = dst; v != src;) {
    const int f = via[v];
    out->fibres.push_back(f);
    out->nodes.push_back(v);
    v = t.fibre(f).src;
  }
  out->nodes.push_back(src);
  std::reverse(out->nodes.begin(), out->nodes.end());
  std::reverse(out->fibres.begin(), out->fibres.end());
  out->length_km = dist[dst];
  return true;
}

bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

bool PathAllowed(const twin::Path& p, const PathRequest& r) {
  for (int f : r.exclude_links) {
    if (Contains(p.fibres, f)) return false;
  }
  for (int v : r.exclude_nodes) {
    if (Contains(p.nodes, v)) return false;
  }
  for (int f : r.include_links) {
    if (!Contains(p.fibres, f)) return false;
  }
  for (int v : r.include_nodes) {
    if (!Contains(p.nodes, v)) return false;
  }
  return true;
}

std::vector<twin::Path> ConstrainedPaths(const twin::NetworkModel& model, const PathRequest& r,
                                         int k, int max_enumerated) {
  const twin::Topology& t = model.topology();
  std::vector<char> base_node(t.NumNodes(), 0), base_fibre(t.NumFibres(), 0);
  for (int v : r.exclude_nodes) base_node[v] = 1;
  for (int f : r.exclude_links) base_fibre[f] = 1;
  auto satisfies_includes = [&](const Route& p) {
    for (int f : r.include_links) {
      if (!Contains(p.fibres, f)) return false;
    }
    for (int v : r.include_nodes) {
      if (!Contains(p.nodes, v)) return false;
    }
    return true;
  };

  std::vector<Route> found;    // Yen's A list
  std::set<Route> candidates;  // Yen's B heap
  std::vector<Route> accepted;
  Route first;
  if (!Dijkstra(t, r.src, r.dst, base_node, base_fibre, &first)) return {};
  found.push_back(first);
  for (int iter = 0; static_cast<int>(found.size()) <= max_enumerated; ++iter) {
    const Route& last = found.back();
    if (satisfies_includes(last)) {
      accepted.push_back(last);
      if (static_cast<int>(accepted.size()) >= k) break;
    }
    if (static_cast<int>(found.size()) == max_enumerated) break;
    for (size_t i = 0; i + 1 < last.nodes.size(); ++i) {
      const int spur = last.nodes[i];
      std::vector<char> banned_node = base_node, banned_fibre = base_fibre;
      for (const Route& p : found) {
        if (p.nodes.size() > i &&
            std::equal(p.nodes.begin(), p.nodes.begin() + i + 1, last.nodes.begin())) {
          banned_fibre[p.fibres[i]] = 1;
        }
      }
      for (size_t j = 0; j < i; ++j) banned_node[last.nodes[j]] = 1;
      Route spur_route;
      if (!Dijkstra(t, spur, r.dst, banned_node, banned_fibre, &spur_route)) continue;
      Route total;
      total.nodes.assign(last.nodes.begin(), last.nodes.begin() + i);
      total.fibres.assign(last.fibres.begin(), last.fibres.begin() + i);
      total.length_km = 0.0;
      for (int f : total.fibres) total.length_km += t.fibre(f).length_km;
      total.nodes.insert(total.nodes.end(), spur_route.nodes.begin(), spur_route.nodes.end());
      total.fibres.insert(total.fibres.end(), spur_route.fibres.begin(), spur_route.fibres.end());
      total.length_km += spur_route.length_km;
      if (std::find_if(found.begin(), found.end(),
                       [&](const Route& p) { return p.nodes == total.nodes; }) == found.end()) {
        candidates.insert(total);
      }
    }
    if (candidates.empty()) break;
    found.push_back(*candidates.begin());
    candidates.erase(candidates.begin());
  }
  std::vector<twin::Path> paths;
  for (const Route& p : accepted) paths.push_back(twin::PathFromNodes(t, p.nodes));
  if (model.options().path_order == twin::PathOrder::kHops) {
    std::stable_sort(paths.begin(), paths.end(),
                     [](const twin::Path& a, const twin::Path& b) { return a.hops < b.hops; });
  }
  return paths;
}

twin::Decision FitOver(const twin::NetworkModel& m, const twin::NetworkState& state,
                       const twin::Request& r, const std::vector<twin::Path>& paths,
                       twin::FitPolicy fit) {
  twin::Decision d;
  uint64_t occ[16];
  bool any_usable = false, any_latency_ok = false, any_candidate = false;
  for (size_t p = 0; p < paths.size(); ++p) {
    for (int b = 0; b < m.NumBands(); ++b) {
      twin::Candidate c = m.EvaluatePath(r, paths[p], b);
      c.path_index = -1;
      any_candidate = true;
      if (c.cause != twin::BlockCause::kLatency) any_latency_ok = true;
      if (!c.usable()) continue;
      any_usable = true;
      state.PathOccupancy(c, occ);
      const int slot = twin::Fit(fit, occ, m.plan().band(b).num_slots, c.width);
      if (slot >= 0) {
        d.accepted = true;
        d.cause = twin::BlockCause::kNone;
        d.candidate = c;
        d.slot = slot;
        return d;
      }
    }
  }
  d.cause = twin::AggregateCause(any_usable, any_latency_ok, any_candidate);
  return d;
}

twin::FitPolicy FitOf(const std::string& h) {
  if (h == "ksp-bf") return twin::FitPolicy::kBestFit;
  if (h == "ksp-lf") return twin::FitPolicy::kLastFit;
  return twin::FitPolicy::kFirstFit;
}

twin::Decision DecideOver(const twin::Heuristic& h, const twin::Request& r,
                          const twin::NetworkState& state, const std::vector<twin::Path>& paths) {
  return FitOver(state.model(), state, r, paths, FitOf(h.Name()));
}

}  // namespace eonops::pce
