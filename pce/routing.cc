#include "pce/routing.h"

#include <algorithm>

namespace eonops::pce {

namespace {

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
  std::vector<char> removed(t.NumFibres(), 0);
  for (int f : r.exclude_links) removed[f] = 1;
  for (int v : r.exclude_nodes) {
    for (int f = 0; f < t.NumFibres(); ++f) {
      if (t.fibre(f).src == v || t.fibre(f).dst == v) removed[f] = 1;
    }
  }
  const twin::PathMetric metric = model.options().path_order == twin::PathOrder::kLength
                                      ? twin::PathMetric::kLength
                                      : twin::PathMetric::kHops;
  // Exclusions are in the graph; inclusions filter what Yen enumerates, widened 4x at a time.
  for (int n = k;; n = std::min(n * 4, max_enumerated)) {
    std::vector<twin::Path> found = twin::KShortestPaths(t, r.src, r.dst, n, metric, &removed);
    const bool exhausted = static_cast<int>(found.size()) < n || n >= max_enumerated;
    std::vector<twin::Path> allowed;
    for (twin::Path& p : found) {
      if (static_cast<int>(allowed.size()) < k && PathAllowed(p, r))
        allowed.push_back(std::move(p));
    }
    if (static_cast<int>(allowed.size()) >= k || exhausted) return allowed;
  }
}

}  // namespace eonops::pce
