#include "agents/replay_buffer.h"

#include <algorithm>
#include <istream>
#include <ostream>
#include <stdexcept>

namespace eonops::agents {

ReplayBuffer::ReplayBuffer(int capacity, int observation_size, int num_actions)
    : capacity_(capacity), observation_size_(observation_size), num_actions_(num_actions) {
  if (capacity <= 0 || observation_size <= 0 || num_actions <= 0) {
    throw std::invalid_argument("ReplayBuffer: every size must be positive");
  }
  const size_t c = capacity;
  observations_.resize(c * observation_size);
  next_observations_.resize(c * observation_size);
  next_masks_.resize(c * num_actions);
  rewards_.resize(c);
  dones_.resize(c);
  actions_.resize(c);
}

void ReplayBuffer::Add(const float* observation, int action, float reward,
                       const float* next_observation, const uint8_t* next_mask, bool done) {
  const size_t i = next_;
  std::copy_n(observation, observation_size_, &observations_[i * observation_size_]);
  std::copy_n(next_observation, observation_size_, &next_observations_[i * observation_size_]);
  std::copy_n(next_mask, num_actions_, &next_masks_[i * num_actions_]);
  actions_[i] = action;
  rewards_[i] = reward;
  dones_[i] = done ? 1.0f : 0.0f;
  next_ = (next_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
}

void ReplayBuffer::Sample(int batch_size, Rng& rng, const RunningNormalizer* normalizer,
                          Batch* out) const {
  if (size_ == 0) throw std::logic_error("ReplayBuffer::Sample: the buffer is empty");
  const size_t n = observation_size_, a = num_actions_;
  out->size = batch_size;
  out->observations.resize(batch_size * n);
  out->next_observations.resize(batch_size * n);
  out->next_masks.resize(batch_size * a);
  out->actions.resize(batch_size);
  out->rewards.resize(batch_size);
  out->dones.resize(batch_size);
  for (int b = 0; b < batch_size; ++b) {
    const size_t i = UniformIndex(rng, size_);
    const float* obs = &observations_[i * n];
    const float* next = &next_observations_[i * n];
    if (normalizer) {
      normalizer->Normalize(obs, &out->observations[b * n]);
      normalizer->Normalize(next, &out->next_observations[b * n]);
    } else {
      std::copy_n(obs, n, &out->observations[b * n]);
      std::copy_n(next, n, &out->next_observations[b * n]);
    }
    std::copy_n(&next_masks_[i * a], a, &out->next_masks[b * a]);
    out->actions[b] = actions_[i];
    out->rewards[b] = rewards_[i];
    out->dones[b] = dones_[i];
  }
}

namespace {
template <typename T>
void WriteVector(std::ostream& out, const std::vector<T>& v) {
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(T)));
}
template <typename T>
void ReadVector(std::istream& in, std::vector<T>& v) {
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}
}  // namespace

void ReplayBuffer::Save(std::ostream& out) const {
  const int64_t header[5] = {capacity_, observation_size_, num_actions_, size_, next_};
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  WriteVector(out, observations_);
  WriteVector(out, next_observations_);
  WriteVector(out, next_masks_);
  WriteVector(out, actions_);
  WriteVector(out, rewards_);
  WriteVector(out, dones_);
  if (!out) throw std::runtime_error("ReplayBuffer::Save: write failed");
}

void ReplayBuffer::Load(std::istream& in) {
  int64_t header[5];
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in) throw std::runtime_error("ReplayBuffer::Load: truncated snapshot");
  if (header[0] != capacity_ || header[1] != observation_size_ || header[2] != num_actions_) {
    throw std::runtime_error("ReplayBuffer::Load: snapshot of a buffer with another shape");
  }
  if (header[3] < 0 || header[3] > capacity_ || header[4] < 0 || header[4] >= capacity_) {
    throw std::runtime_error("ReplayBuffer::Load: corrupt snapshot header");
  }
  size_ = static_cast<int>(header[3]);
  next_ = static_cast<int>(header[4]);
  ReadVector(in, observations_);
  ReadVector(in, next_observations_);
  ReadVector(in, next_masks_);
  ReadVector(in, actions_);
  ReadVector(in, rewards_);
  ReadVector(in, dones_);
  if (!in) throw std::runtime_error("ReplayBuffer::Load: truncated snapshot");
}

}  // namespace eonops::agents
