#include "agents/schedule.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "agents/options.h"

namespace eonops::agents {

StepSchedule StepSchedule::Linear(double start, double end, int64_t end_step) {
  StepSchedule s;
  s.constant_ = end;
  s.segments_.push_back({0, std::max<int64_t>(end_step, 1), start, end});
  return s;
}

StepSchedule StepSchedule::Constant(double value) {
  StepSchedule s;
  s.constant_ = value;
  return s;
}

double StepSchedule::At(int64_t step) const {
  if (segments_.empty()) return constant_;
  for (const Segment& g : segments_) {
    if (step < g.from_step) return g.from_value;
    if (step <= g.to_step) {
      const double span = static_cast<double>(g.to_step - g.from_step);
      const double t = span > 0 ? (step - g.from_step) / span : 1.0;
      return g.from_value + t * (g.to_value - g.from_value);
    }
  }
  return segments_.back().to_value;
}

std::string StepSchedule::ExtendTo(int64_t from_step, int64_t new_end, bool restart_if_ended) {
  if (segments_.empty() || new_end <= end_step() || new_end <= from_step) return "";
  bool varies = false;
  for (const Segment& g : segments_) varies |= g.from_value != g.to_value;
  if (!varies) return "";
  const bool ended = from_step >= end_step();
  if (ended && !restart_if_ended) return "";
  const double final_value = segments_.back().to_value;
  const double start = ended ? segments_.front().from_value : At(from_step);
  // Keep what was run up to from_step, then the new tail.
  std::vector<Segment> kept;
  for (Segment g : segments_) {
    if (g.from_step >= from_step) break;
    if (g.to_step > from_step) {
      g.to_value = At(from_step);
      g.to_step = from_step;
    }
    kept.push_back(g);
  }
  const int64_t old_end = end_step();
  kept.push_back({from_step, new_end, start, final_value});
  segments_ = std::move(kept);
  std::ostringstream note;
  if (ended) {
    note << "schedule had ended at step " << old_end << "; restarted at step " << from_step << " from " << start
         << " down to " << final_value << " at step " << new_end << " (a warm restart, not a straight run)";
  } else {
    note << "schedule horizon moved from step " << old_end << " to " << new_end << ": continues from " << start
         << " at step " << from_step << " down to " << final_value << " at step " << new_end;
  }
  return note.str();
}

nlohmann::json StepSchedule::ToJson() const {
  nlohmann::json segs = nlohmann::json::array();
  for (const Segment& g : segments_) {
    segs.push_back({{"from_step", g.from_step}, {"to_step", g.to_step}, {"from", g.from_value}, {"to", g.to_value}});
  }
  return {{"segments", segs}, {"constant", constant_}};
}

StepSchedule StepSchedule::FromJson(const nlohmann::json& j, const std::string& origin) {
  StepSchedule s;
  try {
    s.constant_ = j.at("constant").get<double>();
    int64_t last = 0;
    for (const auto& g : j.at("segments")) {
      Segment seg{g.at("from_step").get<int64_t>(), g.at("to_step").get<int64_t>(), g.at("from").get<double>(),
                  g.at("to").get<double>()};
      if (seg.from_step < last || seg.to_step < seg.from_step) throw std::invalid_argument("segments out of order");
      last = seg.to_step;
      s.segments_.push_back(seg);
    }
  } catch (const std::exception& e) {
    throw ConfigError(origin + ": bad schedule: " + e.what());
  }
  return s;
}

}  // namespace eonops::agents
