// Internal to eonops_proto: a fixed pool of threads that runs parallel loops for the servers.
//
//   WorkPool pool(4);                                    // the caller plus 3 helpers
//   pool.ParallelFor(n, [&](int i) { envs[i]->Step(...); });
//
// Items are handed out one at a time from a shared counter, so slow items (an environment reset
// that replays its warm-up) do not hold a whole slice back. ParallelFor returns when every item
// is done and rethrows the first exception an item threw. Several callers may share one pool:
// a caller always works on its own loop, so it finishes even when every helper is busy.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace eonops::proto::internal {

class WorkPool {
 public:
  explicit WorkPool(int parallelism);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  int parallelism() const { return static_cast<int>(helpers_.size()) + 1; }
  void ParallelFor(int n, const std::function<void(int)>& fn);

 private:
  void HelperLoop();

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
};

}  // namespace eonops::proto::internal
