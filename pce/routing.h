// Candidate paths under TAPI topology constraints, from the twin's Yen (twin/paths.h).
//
// Without constraints the PCE uses the model's k candidate paths like the twin. With
// include/exclude links or nodes, excluded fibres (and every fibre of an excluded node) are
// hidden from the twin's KShortestPaths, by the model's metric (km, or hops for the hop-ordered
// sets); included elements are a filter on the paths it enumerates, widened until k pass or
// `max_enumerated` were looked at. The heuristics then decide among these paths
// (twin::Heuristic::DecideAmong): one implementation of each rule, constraints as a filter.
//
//   std::vector<twin::Path> paths = ConstrainedPaths(model, request, model.k());
//   twin::Decision d = heuristic.DecideAmong(twin_request, state, paths);
#pragma once

#include <vector>

#include "pce/request.h"
#include "twin/network.h"

namespace eonops::pce {

// Up to `k` paths from request.src to request.dst that satisfy the request's constraints.
std::vector<twin::Path> ConstrainedPaths(const twin::NetworkModel& model,
                                         const PathRequest& request, int k,
                                         int max_enumerated = 256);
// True when `path` avoids every excluded element and passes every included one.
bool PathAllowed(const twin::Path& path, const PathRequest& request);

}  // namespace eonops::pce
