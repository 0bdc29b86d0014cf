// Piecewise-linear schedules over environment steps: PPO's learning-rate decay and DQN's
// exploration epsilon. A schedule is planned over a horizon (train.schedule_steps, by default
// train.total_steps); a run stopped early and resumed to the horizon follows exactly the
// schedule of a straight run of that length. Resuming PAST the horizon extends the schedule:
// from the value reached at the resume step, linearly to the end value at the new horizon (no
// jump back up), and the segments actually run are recorded in checkpoints and manifests.
//
//   StepSchedule lr = StepSchedule::Linear(1.0, 0.0, /*end_step=*/8000000);
//   double scale = lr.At(env_steps);
//   std::string note = lr.ExtendTo(/*from_step=*/8000000, /*new_end=*/12000000);
//
// Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eonops::agents {

class StepSchedule {
 public:
  struct Segment {
    int64_t from_step = 0, to_step = 0;
    double from_value = 0, to_value = 0;
  };

  StepSchedule() = default;
  // `start` at step 0, linearly to `end` at `end_step`, then `end`.
  static StepSchedule Linear(double start, double end, int64_t end_step);
  static StepSchedule Constant(double value);

  double At(int64_t step) const;
  // The step after which the value stays constant.
  int64_t end_step() const { return segments_.empty() ? 0 : segments_.back().to_step; }
  const std::vector<Segment>& segments() const { return segments_; }

  // When `new_end` is past end_step() and the schedule is not constant, replans its tail: from
  // At(from_step) at from_step linearly to the final value at `new_end`. If the schedule had
  // already ended at from_step, it is restarted instead when `restart_if_ended` (from its
  // first value down to the final one: a warm restart), else left alone. Returns a one-line
  // description of what changed, "" when nothing did.
  std::string ExtendTo(int64_t from_step, int64_t new_end, bool restart_if_ended = true);

  nlohmann::json ToJson() const;
  static StepSchedule FromJson(const nlohmann::json& j, const std::string& origin);

 private:
  std::vector<Segment> segments_;
  double constant_ = 0;  // the value when there are no segments
};

}  // namespace eonops::agents
