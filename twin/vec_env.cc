#include "twin/vec_env.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace eonops::twin {

namespace {
// Slice [begin, end) of n items for part p of parts.
std::pair<int, int> Slice(int n, int parts, int p) {
  return {n * p / parts, n * (p + 1) / parts};
}
}  // namespace

VecEnv::VecEnv(const Factory& factory, int num_envs, uint64_t seed, int num_threads)
    : seed_(seed) {
  if (num_envs <= 0) throw std::invalid_argument("VecEnv: num_envs must be positive");
  if (num_threads <= 0) throw std::invalid_argument("VecEnv: num_threads must be positive");
  envs_.reserve(num_envs);
  for (int i = 0; i < num_envs; ++i) envs_.push_back(factory());
  const EnvSpec& spec = Spec();
  for (const auto& env : envs_) {
    if (env->Spec().observation_size != spec.observation_size ||
        env->Spec().num_actions != spec.num_actions) {
      throw std::invalid_argument("VecEnv: factory made environments with different specs");
    }
  }
  resets_.assign(num_envs, 0);
  observations_.assign(static_cast<size_t>(num_envs) * spec.observation_size, 0.0f);
  masks_.assign(static_cast<size_t>(num_envs) * spec.num_actions, 0);
  rewards_.assign(num_envs, 0.0f);
  dones_.assign(num_envs, 0);
  truncated_.assign(num_envs, 0);
  final_observations_.assign(observations_.size(), 0.0f);
  final_masks_.assign(masks_.size(), 0);
  accepted_.assign(num_envs, 0);
  num_parts_ = std::min(num_threads, num_envs);
  for (int w = 1; w < num_parts_; ++w) workers_.emplace_back([this, w] { WorkerLoop(w); });
}

VecEnv::~VecEnv() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void VecEnv::Reset() {
  const EnvSpec& spec = Spec();
  for (int i = 0; i < NumEnvs(); ++i) {
    resets_[i] = 0;
    envs_[i]->Reset(seed_ + i, &observations_[static_cast<size_t>(i) * spec.observation_size],
                    &masks_[static_cast<size_t>(i) * spec.num_actions]);
    rewards_[i] = 0.0f;
    dones_[i] = 0;
    truncated_[i] = 0;
    accepted_[i] = 0;
  }
}

void VecEnv::Reset(uint64_t seed) {
  seed_ = seed;
  Reset();
}

void VecEnv::StepRange(int begin, int end) {
  const EnvSpec& spec = Spec();
  const uint64_t n = envs_.size();
  for (int i = begin; i < end; ++i) {
    float* obs = &observations_[static_cast<size_t>(i) * spec.observation_size];
    uint8_t* mask = &masks_[static_cast<size_t>(i) * spec.num_actions];
    StepResult r = envs_[i]->Step(actions_[i], obs, mask);
    rewards_[i] = r.reward;
    dones_[i] = r.done;
    truncated_[i] = r.done && r.truncated;
    accepted_[i] = r.accepted;
    if (r.done) {
      std::copy_n(obs, spec.observation_size, &final_observations_[static_cast<size_t>(i) * spec.observation_size]);
      std::copy_n(mask, spec.num_actions, &final_masks_[static_cast<size_t>(i) * spec.num_actions]);
      ++resets_[i];
      envs_[i]->Reset(seed_ + i + n * resets_[i], obs, mask);
    }
  }
}

void VecEnv::Step(const int32_t* actions) {
  actions_ = actions;
  const int parts = num_parts_;
  if (parts == 1) {
    StepRange(0, NumEnvs());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_ = parts - 1;
    ++generation_;
  }
  start_cv_.notify_all();
  auto [b, e] = Slice(NumEnvs(), parts, 0);
  std::exception_ptr mine;
  try {
    StepRange(b, e);
  } catch (...) {
    mine = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [this] { return pending_ == 0; });
  // An environment that throws (a remote worker that died, a broken invariant) fails the
  // whole step in the caller's thread, after every slice has finished with the buffers.
  std::exception_ptr error = mine ? mine : worker_error_;
  worker_error_ = nullptr;
  if (error) std::rethrow_exception(error);
}

void VecEnv::WorkerLoop(int worker) {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    auto [b, e] = Slice(NumEnvs(), num_parts_, worker);
    std::exception_ptr error;
    try {
      StepRange(b, e);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error && !worker_error_) worker_error_ = error;
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
}

}  // namespace eonops::twin
