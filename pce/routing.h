// Routing under TAPI topology constraints, and the heuristic fallback over such routes.
//
// Without constraints the PCE uses the model's k shortest paths (twin/paths.h) like the twin.
// With include/exclude links or nodes it enumerates loopless paths by length (Yen) on the
// topology minus the excluded elements, keeps those that pass every included element, and
// takes the first k (reordered by hops when the model orders by hops).
//
//   std::vector<twin::Path> paths = ConstrainedPaths(model, request, model.k());
//   twin::Decision d = FirstFitOver(model, state, twin_request, paths, twin::FitPolicy::kFirstFit);
#pragma once

#include <vector>

#include "pce/request.h"
#include "twin/heuristics.h"
#include "twin/network.h"

namespace eonops::pce {

// Up to `k` paths from request.src to request.dst that satisfy the request's constraints;
// looks at most `max_enumerated` paths before giving up on the included elements.
std::vector<twin::Path> ConstrainedPaths(const twin::NetworkModel& model,
                                         const PathRequest& request, int k,
                                         int max_enumerated = 256);
// True when `path` avoids every excluded element and passes every included one.
bool PathAllowed(const twin::Path& path, const PathRequest& request);

// The first (path, band, block) by `fit` over `paths` in order, bands in the plan's order:
// KSP-FF on an explicit path list. The decision's candidate points into `paths`.
twin::Decision FitOver(const twin::NetworkModel& model, const twin::NetworkState& state,
                       const twin::Request& request, const std::vector<twin::Path>& paths,
                       twin::FitPolicy fit);

// The fit policy a heuristic name uses for its spectrum search (first fit unless -bf / -lf).
twin::FitPolicy FitOf(const std::string& heuristic);

// The heuristic `h` over an explicit candidate list (constraints, pairing) instead of the
// model's k shortest paths. The decision's candidate points into `paths`.
twin::Decision DecideOver(const twin::Heuristic& h, const twin::Request& request,
                          const twin::NetworkState& state, const std::vector<twin::Path>& paths);

}  // namespace eonops::pce
