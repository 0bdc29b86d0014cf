#include "twin/engine.h"

#include <stdexcept>
#include <string>

namespace eonops::twin {

Engine::Engine(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic, uint64_t seed)
    : state_(std::move(model)), traffic_(traffic), generator_(traffic, state_.model().topology().NumNodes(), seed) {}

void Engine::Reset(uint64_t seed) {
  state_.Clear();
  generator_ = TrafficGenerator(traffic_, state_.model().topology().NumNodes(), seed);
  departures_ = {};
  current_ = Request{};
  arrivals_ = 0;
}

const Request& Engine::Advance() {
  current_ = generator_.Next();
  ++arrivals_;
  while (!departures_.empty() && departures_.top().time <= current_.arrival_time) {
    const int32_t id = departures_.top().id;
    departures_.pop();
    if (!state_.Release(id)) {
      // Only the engine releases its lightpaths, so a failed release is a broken invariant.
      throw std::logic_error("engine: lightpath " + std::to_string(id) + " was not lit at its departure");
    }
  }
  return current_;
}

int32_t Engine::Commit(const Candidate& candidate, int slot) {
  const double release = current_.arrival_time + current_.holding_time;
  const int32_t id = state_.Provision(current_, candidate, slot, release);
  if (id >= 0) departures_.push({release, id});
  return id;
}

}  // namespace eonops::twin
