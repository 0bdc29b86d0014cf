#include "proto/work_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <stdexcept>

namespace eonops::proto::internal {

namespace {
struct Loop {
  int n = 0;
  const std::function<void(int)>* fn = nullptr;  // valid while items remain unclaimed
  std::atomic<int> next{0};
  std::mutex mutex;
  std::condition_variable done_cv;
  int done = 0;
  std::exception_ptr error;

  void Work() {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      std::exception_ptr e;
      try {
        (*fn)(i);
      } catch (...) {
        e = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (e && !error) error = e;
      if (++done == n) done_cv.notify_all();
    }
  }
};
}  // namespace

WorkPool::WorkPool(int parallelism) {
  if (parallelism < 1) throw std::invalid_argument("WorkPool: parallelism must be at least 1");
  for (int i = 1; i < parallelism; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : helpers_) t.join();
}

void WorkPool::HelperLoop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void WorkPool::ParallelFor(int n, const std::function<void(int)>& fn) {
  if (n <= 0) return;
  const int helpers = std::min(static_cast<int>(helpers_.size()), n - 1);
  if (helpers == 0) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  auto loop = std::make_shared<Loop>();
  loop->n = n;
  loop->fn = &fn;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // A helper that starts after the caller claimed every item only touches `next`: the loop
    // is shared so that it outlives this call.
    for (int h = 0; h < helpers; ++h) tasks_.emplace_back([loop] { loop->Work(); });
  }
  cv_.notify_all();
  loop->Work();
  std::unique_lock<std::mutex> lock(loop->mutex);
  loop->done_cv.wait(lock, [&] { return loop->done == n; });
  if (loop->error) std::rethrow_exception(loop->error);
}

}  // namespace eonops::proto::internal
