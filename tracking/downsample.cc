#include "tracking/downsample.h"

#include <algorithm>
#include <cmath>

namespace eonops::tracking {

std::vector<size_t> LttbIndices(const std::vector<XY>& points, size_t max_points) {
  const size_t n = points.size();
  std::vector<size_t> keep;
  if (max_points >= n || n <= 2) {
    keep.resize(n);
    for (size_t i = 0; i < n; ++i) keep[i] = i;
    return keep;
  }
  if (max_points < 3) max_points = 3;  // first, one bucket, last
  keep.reserve(max_points);
  keep.push_back(0);
  const double bucket = static_cast<double>(n - 2) / static_cast<double>(max_points - 2);
  size_t a = 0;  // the point chosen in the previous bucket
  for (size_t b = 0; b < max_points - 2; ++b) {
    // The average of the next bucket is the third corner of the triangle.
    size_t next_lo = static_cast<size_t>(std::floor((b + 1) * bucket)) + 1;
    size_t next_hi = std::min(static_cast<size_t>(std::floor((b + 2) * bucket)) + 1, n);
    if (next_lo >= n) next_lo = n - 1;
    if (next_hi <= next_lo) next_hi = next_lo + 1;
    double avg_x = 0, avg_y = 0;
    for (size_t i = next_lo; i < next_hi; ++i) {
      avg_x += points[i].x;
      avg_y += points[i].y;
    }
    avg_x /= static_cast<double>(next_hi - next_lo);
    avg_y /= static_cast<double>(next_hi - next_lo);

    size_t lo = static_cast<size_t>(std::floor(b * bucket)) + 1;
    size_t hi = std::min(static_cast<size_t>(std::floor((b + 1) * bucket)) + 1, n - 1);
    if (hi <= lo) hi = lo + 1;
    double best_area = -1;
    size_t best = lo;
    for (size_t i = lo; i < hi; ++i) {
      double area = std::fabs((points[a].x - avg_x) * (points[i].y - points[a].y) -
                              (points[a].x - points[i].x) * (avg_y - points[a].y));
      if (area > best_area) {
        best_area = area;
        best = i;
      }
    }
    keep.push_back(best);
    a = best;
  }
  keep.push_back(n - 1);
  return keep;
}

}  // namespace eonops::tracking
