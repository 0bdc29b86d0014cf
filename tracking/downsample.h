// Server-side downsampling of long metric histories for charts.
//
// Largest-Triangle-Three-Buckets (Steinarsson, 2013): keeps the first and last points and, in
// each of `max_points - 2` buckets, the point that spans the largest triangle with its
// neighbours, so peaks and dips survive (a plain stride would drop a one-step blocking spike).
// A chart 1000 px wide gains nothing from more than ~1000 points, and 20 runs x 100k points
// would otherwise be megabytes of JSON and seconds of SVG.
//
//   std::vector<XY> pts = ...;                 // 100,000 points
//   std::vector<size_t> keep = LttbIndices(pts, 1000);
#pragma once

#include <cstddef>
#include <vector>

namespace eonops::tracking {

struct XY {
  double x = 0, y = 0;
};

// Indices (ascending) of the points to keep; all indices when points.size() <= max_points.
// Points must be sorted by x; non-finite y values should be removed beforehand.
std::vector<size_t> LttbIndices(const std::vector<XY>& points, size_t max_points);

}  // namespace eonops::tracking
