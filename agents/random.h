// The learners' random numbers: one std::mt19937_64 per trainer, drawn through these helpers
// so that a run depends only on its seed (not on the standard library's distribution classes)
// and its state can be checkpointed as text.
//
//   Rng rng(seed);
//   double u = Uniform01(rng);           // [0, 1)
//   uint64_t k = UniformIndex(rng, n);   // [0, n), unbiased
//
// Torch-free.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace eonops::agents {

using Rng = std::mt19937_64;

// Distinct streams from one seed (splitmix64), so sampling, shuffling, environments and
// perturbations do not share draws.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline double Uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

inline uint64_t UniformIndex(Rng& rng, uint64_t n) {
  // Rejection sampling over the largest multiple of n: no modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

// Fisher-Yates, with the draws above (std::shuffle's draws are implementation-defined).
template <typename T>
void Shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[UniformIndex(rng, i)]);
}

// A uniformly chosen feasible action (mask[a] != 0), or -1 when none is.
inline int RandomMaskedAction(const uint8_t* mask, int num_actions, Rng& rng) {
  int feasible = 0;
  for (int a = 0; a < num_actions; ++a) feasible += mask[a] != 0;
  if (feasible == 0) return -1;
  uint64_t k = UniformIndex(rng, feasible);
  for (int a = 0; a < num_actions; ++a) {
    if (mask[a] && k-- == 0) return a;
  }
  return -1;  // unreachable
}

inline std::string SaveRng(const Rng& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

inline void LoadRng(const std::string& state, Rng* rng) {
  std::istringstream in(state);
  Rng parsed;
  in >> parsed;
  if (!in) throw std::runtime_error("random state: cannot parse a saved mt19937_64 state");
  *rng = parsed;
}

}  // namespace eonops::agents
