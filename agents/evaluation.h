// Evaluating a policy (or any action rule) on whole episodes with fixed seeds, so that a trained
// policy, a random baseline and a heuristic are compared on exactly the same request sequences.
//
//   EvaluationOptions opt;  opt.episodes = 5;  opt.seed = 1000;   // episodes seeded 1000..1004
//   EvaluationResult drl = Evaluate(factory, *policy, opt);
//   EvaluationResult rnd = Evaluate(factory, RandomMaskedActions(spec.num_actions, 7), opt);
//   std::cout << drl.blocking.mean << " +- " << drl.blocking.ci95_half_width;
//
// Blocking of an episode is 1 - accepted / requests; the confidence intervals are Student-t
// intervals over episodes. Torch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "agents/policy.h"
#include "twin/vec_env.h"

namespace eonops::agents {

// Chooses an action for one observation; -1 means "no feasible action" (the env is then
// stepped with action 0, which it rejects as a block).
using ActionFn = std::function<int(const float* observation, const uint8_t* mask)>;

struct EvaluationOptions {
  int episodes = 10;
  uint64_t seed = 1000;                      // episode k is Reset with seed + k
  int64_t max_steps_per_episode = 10000000;  // guard against an env that never ends
};

struct Summary {
  int n = 0;
  double mean = 0;
  double stddev = 0;           // sample standard deviation
  double ci95_half_width = 0;  // Student-t, n - 1 degrees of freedom (0 when n < 2)
};
Summary Summarize(const std::vector<double>& values);
// The two-sided 97.5% quantile of Student's t with `dof` degrees of freedom.
double StudentT975(int dof);

struct EpisodeResult {
  uint64_t seed = 0;
  double reward = 0;
  int64_t steps = 0;
  int64_t accepted = 0;
  double blocking = 0;
};

struct EvaluationResult {
  std::vector<EpisodeResult> episodes;
  Summary reward;
  Summary blocking;
};

EvaluationResult Evaluate(const twin::VecEnv::Factory& factory, const ActionFn& act,
                          const EvaluationOptions& options);
// The policy's greedy decisions.
EvaluationResult Evaluate(const twin::VecEnv::Factory& factory, const Policy& policy,
                          const EvaluationOptions& options);
// Uniformly random feasible actions (the baseline a trained policy must clearly beat).
ActionFn RandomMaskedActions(int num_actions, uint64_t seed);

}  // namespace eonops::agents
