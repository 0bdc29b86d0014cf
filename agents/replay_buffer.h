// The DQN replay buffer: a ring of transitions over plain arrays.
//
//   ReplayBuffer buffer(/*capacity=*/100000, obs_size, num_actions);
//   buffer.Add(obs, action, reward, next_obs, next_mask, done);
//   ReplayBuffer::Batch batch;
//   buffer.Sample(64, rng, &normalizer, &batch);   // uniform, with replacement
//
// Observations are stored raw and normalised when sampled, with the statistics current then
// (as SB3 does), so old transitions are not frozen under stale statistics. Torch-free.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "agents/normalizer.h"
#include "agents/random.h"

namespace eonops::agents {

class ReplayBuffer {
 public:
  struct Batch {
    int size = 0;
    std::vector<float> observations;       // size x obs
    std::vector<int64_t> actions;          // size
    std::vector<float> rewards;            // size
    std::vector<float> next_observations;  // size x obs
    std::vector<uint8_t> next_masks;       // size x actions
    std::vector<float> dones;              // size, 1 when the episode ended at this step
  };

  ReplayBuffer(int capacity, int observation_size, int num_actions);

  int capacity() const { return capacity_; }
  int size() const { return size_; }
  int observation_size() const { return observation_size_; }
  int num_actions() const { return num_actions_; }

  void Add(const float* observation, int action, float reward, const float* next_observation,
           const uint8_t* next_mask, bool done);
  // `normalizer` may be null (observations returned raw).
  void Sample(int batch_size, Rng& rng, const RunningNormalizer* normalizer, Batch* out) const;

  // Binary snapshot for checkpoints; Load throws on a snapshot of another shape.
  void Save(std::ostream& out) const;
  void Load(std::istream& in);

 private:
  int capacity_, observation_size_, num_actions_;
  int size_ = 0, next_ = 0;
  std::vector<float> observations_, next_observations_, rewards_, dones_;
  std::vector<int64_t> actions_;
  std::vector<uint8_t> next_masks_;
};

}  // namespace eonops::agents
