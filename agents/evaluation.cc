#include "agents/evaluation.h"

#include <cmath>
#include <memory>
#include <stdexcept>

#include "agents/random.h"

namespace eonops::agents {

double StudentT975(int dof) {
  static const double kTable[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                  2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                  2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                  2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof <= 0) return 0.0;
  if (dof <= 30) return kTable[dof];
  if (dof <= 40) return 2.021;
  if (dof <= 60) return 2.000;
  if (dof <= 120) return 1.980;
  return 1.960;
}

Summary Summarize(const std::vector<double>& values) {
  Summary s;
  s.n = static_cast<int>(values.size());
  if (s.n == 0) return s;
  for (double v : values) s.mean += v;
  s.mean /= s.n;
  if (s.n < 2) return s;
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.stddev = std::sqrt(ss / (s.n - 1));
  s.ci95_half_width = StudentT975(s.n - 1) * s.stddev / std::sqrt(static_cast<double>(s.n));
  return s;
}

EvaluationResult Evaluate(const twin::VecEnv::Factory& factory, const ActionFn& act,
                          const EvaluationOptions& options) {
  if (options.episodes <= 0) throw std::invalid_argument("Evaluate: episodes must be positive");
  std::unique_ptr<twin::Env> env = factory();
  const twin::EnvSpec& spec = env->Spec();
  std::vector<float> obs(spec.observation_size);
  std::vector<uint8_t> mask(spec.num_actions);
  EvaluationResult result;
  std::vector<double> rewards, blocking;
  for (int k = 0; k < options.episodes; ++k) {
    EpisodeResult e;
    e.seed = options.seed + k;
    env->Reset(e.seed, obs.data(), mask.data());
    bool done = false;
    while (!done) {
      if (e.steps >= options.max_steps_per_episode) {
        throw std::runtime_error("Evaluate: episode with seed " + std::to_string(e.seed) +
                                 " did not end within " +
                                 std::to_string(options.max_steps_per_episode) + " steps");
      }
      int action = act(obs.data(), mask.data());
      twin::StepResult r = env->Step(action < 0 ? 0 : action, obs.data(), mask.data());
      e.reward += r.reward;
      e.accepted += r.accepted;
      ++e.steps;
      done = r.done;
    }
    e.blocking = 1.0 - static_cast<double>(e.accepted) / e.steps;
    rewards.push_back(e.reward);
    blocking.push_back(e.blocking);
    result.episodes.push_back(e);
  }
  result.reward = Summarize(rewards);
  result.blocking = Summarize(blocking);
  return result;
}

EvaluationResult Evaluate(const twin::VecEnv::Factory& factory, const Policy& policy,
                          const EvaluationOptions& options) {
  return Evaluate(
      factory,
      [&policy](const float* obs, const uint8_t* mask) { return policy.Act(obs, mask).action; },
      options);
}

ActionFn RandomMaskedActions(int num_actions, uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng, num_actions](const float*, const uint8_t* mask) {
    return RandomMaskedAction(mask, num_actions, *rng);
  };
}

}  // namespace eonops::agents
