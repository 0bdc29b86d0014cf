// The event-driven core of the twin: requests arrive (Poisson), lightpaths depart when their
// holding time ends. Before each arrival every lightpath that expired is released; the caller
// (the simulator with a heuristic, or an RL environment with an agent) then decides and
// commits the current request.
//
//   Engine engine(model, traffic, /*seed=*/1);
//   for (int i = 0; i < n; ++i) {
//     const Request& r = engine.Advance();
//     Decision d = heuristic.Decide(r, engine.state());
//     if (d.accepted) engine.Commit(d.candidate, d.slot);
//   }
#pragma once

#include <memory>
#include <queue>
#include <vector>

#include "twin/network.h"
#include "twin/traffic.h"

namespace eonops::twin {

class Engine {
 public:
  Engine(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic, uint64_t seed);

  // Empties the network and restarts the traffic from `seed`.
  void Reset(uint64_t seed);
  // Releases what expired before the next arrival and makes it the current request.
  const Request& Advance();
  const Request& current() const { return current_; }
  // Lights the current request on `candidate` at `slot`; returns the lightpath id or -1.
  int32_t Commit(const Candidate& candidate, int slot);

  const NetworkState& state() const { return state_; }
  // Keeps the lit lightpaths' actual GSNR (NetworkState::EnableQotTracking).
  void EnableQotTracking() { state_.EnableQotTracking(); }
  const NetworkModel& model() const { return state_.model(); }
  const TrafficConfig& traffic() const { return traffic_; }
  double now() const { return current_.arrival_time; }
  int64_t arrivals() const { return arrivals_; }

 private:
  struct Departure {
    double time;
    int32_t id;
    bool operator>(const Departure& o) const { return time > o.time || (time == o.time && id > o.id); }
  };

  NetworkState state_;
  TrafficConfig traffic_;
  TrafficGenerator generator_;
  std::priority_queue<Departure, std::vector<Departure>, std::greater<Departure>> departures_;
  Request current_;
  int64_t arrivals_ = 0;
};

}  // namespace eonops::twin
