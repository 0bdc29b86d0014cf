// Hyperparameters of the learners, as plain structs filled from an experiment JSON file.
//
// One file in configs/experiments/ describes one experiment. Its twin sections ("network",
// "traffic", "measurement", "env": twin/scenario.h, twin/envs.h) are kept verbatim in
// ExperimentConfig::twin and parsed by the twin; the learner sections ("train", "model", "ppo",
// "dqn") are read here. Every learner key is optional (the defaults below apply); an unknown
// key or a value of the wrong type throws ConfigError naming the file and the key, so a typo
// never silently trains with a default.
//
//   ExperimentConfig cfg = LoadExperimentConfig("configs/experiments/deeprmsa-nsfnet-ppo.json");
//   cfg.train.seed = 7;                 // command-line overrides go straight into the struct
//   twin::EnvConfig env = twin::EnvConfig::FromJson(cfg.twin, cfg.source);
//   auto model = std::make_shared<const twin::NetworkModel>(env.network);
//   Trainer trainer(cfg, twin::MakeEnvFactory(model, env));
//
// Torch-free: tools/ and pce/ may include it.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace eonops::agents {

// Thrown for a bad experiment file or a bad manifest: "<file>: <key>: <reason>".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Activation { kTanh, kRelu, kElu, kLeakyRelu };
enum class Algorithm { kPpo, kDqn, kEs };

std::string ToString(Activation activation);
std::string ToString(Algorithm algorithm);

// The MLP networks (agents/model.h). The PPO actor-critic uses `hidden_sizes` for the actor and
// the critic (two separate MLPs, or one trunk with two heads when `shared_trunk`); the DQN
// Q-network uses it for its trunk, then a dueling (value + advantage) or a plain head.
//
// The actor can instead be a candidate scorer (policy "candidate-scorer", PPO only): one MLP
// (`scorer_hidden_sizes`; [] makes it linear) shared by every action scores that action from its own features
// (twin's EnvOptions::action_features) and a context vector (an MLP, `context_hidden_sizes`,
// over the rest of the observation; none when empty); the reject action's logit is 0. A fixed prior is added to
// each logit: prior_scale x the action's feature `prior_feature` (by default the capacity-loss
// gap, so with prior_scale > 0 the untrained policy already ranks actions as MSCL-KSP does; the
// scorer's output layer starts at zero). The critic is the usual MLP over the whole
// observation. Observations must not be normalised (the prior reads raw features).
enum class PolicyArchitecture { kMlp, kCandidateScorer };
std::string ToString(PolicyArchitecture p);

struct ModelOptions {
  std::vector<int> hidden_sizes = {128, 128};
  Activation activation = Activation::kTanh;
  bool shared_trunk = false;
  bool dueling = true;          // DQN only
  bool orthogonal_init = true;  // orthogonal weights, gain sqrt(2) hidden, 0.01 policy head
  PolicyArchitecture policy = PolicyArchitecture::kMlp;
  std::vector<int> scorer_hidden_sizes = {64, 64};
  std::vector<int> context_hidden_sizes = {64};
  float prior_scale = 0.0f;
  int prior_feature = 1;
  // Where the action features lie in the observation; filled by the trainer from the env's
  // layout (field "action_features"), kept in manifests.
  int action_features_offset = 0;
  int action_features_size = 0;
  bool operator==(const ModelOptions& o) const {
    return hidden_sizes == o.hidden_sizes && activation == o.activation &&
           shared_trunk == o.shared_trunk && dueling == o.dueling &&
           orthogonal_init == o.orthogonal_init && policy == o.policy &&
           scorer_hidden_sizes == o.scorer_hidden_sizes &&
           context_hidden_sizes == o.context_hidden_sizes && prior_scale == o.prior_scale &&
           prior_feature == o.prior_feature && action_features_offset == o.action_features_offset &&
           action_features_size == o.action_features_size;
  }
};

struct PpoOptions {
  int rollout_steps = 128;  // steps per environment between updates
  int epochs = 4;
  int minibatches = 4;  // per epoch; the rollout (rollout_steps x num_envs) is split in these
  float learning_rate = 3e-4f;
  bool anneal_learning_rate = true;  // linear decay to 0 over the run
  float adam_epsilon = 1e-5f;
  float gamma = 0.99f;
  float gae_lambda = 0.95f;
  float clip = 0.2f;
  bool clip_value = true;
  float value_clip = 0.2f;
  float value_coef = 0.5f;
  float entropy_coef = 0.01f;
  float max_grad_norm = 0.5f;  // <= 0 disables clipping
  bool normalize_advantages = true;
  float target_kl = 0.0f;  // > 0: stop the epochs once the approximate KL exceeds 1.5x this
  // Subtract the running mean reward from every reward (Naik, Wan, Sutton, "Reward Centering",
  // RLC 2024): in a continuing task with gamma near 1 the value is otherwise dominated by
  // r_mean / (1 - gamma), which the critic must first learn before advantages mean anything.
  // The ranking of policies is unchanged (a constant offset per step).
  bool reward_centering = false;
  // The torch-free loops of agents/fused_mlp.h for the MLP actor-critic (the same update as
  // torch's to float rounding, twice as fast); false runs every pass through torch, to compare.
  // Architectures the fused loops do not cover use torch whatever this says.
  bool fused = true;
};

struct DqnOptions {
  float learning_rate = 1e-4f;
  float adam_epsilon = 1e-8f;
  float gamma = 0.99f;
  int batch_size = 64;
  int buffer_size = 100000;           // transitions
  int learning_starts = 1000;         // environment steps before the first update
  int train_frequency = 4;            // vector steps between updates
  int gradient_steps = 1;             // updates each time
  int target_update_interval = 1000;  // updates between hard target syncs (tau == 1)
  float tau = 1.0f;                   // < 1: Polyak averaging after every update instead
  bool double_q = true;
  float epsilon_start = 1.0f;
  float epsilon_end = 0.05f;
  float exploration_fraction = 0.1f;  // of train.total_steps to go from start to end
  float max_grad_norm = 10.0f;        // <= 0 disables clipping
};

// Evolution strategies (Salimans et al., "Evolution Strategies as a Scalable Alternative to
// Reinforcement Learning", 2017) over the candidate scorer's actor parameters: each generation
// perturbs them in `pairs` antithetic directions, measures every perturbed greedy policy in the
// twin's simulator on the same traffic (common random numbers: one seed per generation), and
// steps along the rank-weighted directions with Adam. The fitness is the use case's objective
// measured over whole runs, so a decision is judged by the blocking it causes later, not by a
// critic's guess: the delayed, rare signal PPO struggles with on these benchmarks.
struct EsOptions {
  int generations = 100;
  int pairs = 8;                 // antithetic pairs per generation (2 x pairs simulations)
  float sigma = 0.05f;           // perturbation scale
  float learning_rate = 0.02f;   // Adam, on the rank-shaped gradient estimate
  float weight_decay = 0.0f;     // L2 pull towards 0 (towards the prior)
  int64_t requests = 20000;      // counted requests per simulation
  int64_t warmup = 3000;         // warm-up requests per simulation
  // The fitness (higher is better): "blocking" (-service blocking), "bit-rate-blocking", or
  // "blocking+power" (-blocking - power_weight x mean power / 1 kW).
  std::string fitness = "blocking";
  float power_weight = 0.0f;
  int eval_interval = 10;        // generations between evaluations of the centre policy

  // Requests one generation simulates, warm-ups included (its training "steps").
  int64_t RequestsPerGeneration() const { return 2 * int64_t{pairs} * (requests + warmup); }
};

struct TrainOptions {
  Algorithm algorithm = Algorithm::kPpo;
  int64_t total_steps = 1000000;  // environment steps, all environments together
  // Horizon of the learning-rate and epsilon schedules (0: total_steps). Set it to the final
  // length when a run is trained in legs (--steps N then --resume --steps M): the legs then
  // follow the schedule of one straight run (agents/schedule.h).
  int64_t schedule_steps = 0;
  int num_envs = 8;
  int env_threads = 1;    // VecEnv worker threads
  int torch_threads = 1;  // at::set_num_threads
  // PPO: threads that share each minibatch's forward and backward passes (Ppo::SetLearnerReplicas).
  // On 2 cores, 2 uses the core the environments leave idle during the update; more than the
  // cores only adds contention.
  int learner_threads = 1;
  uint64_t seed = 1;
  bool normalize_observations = true;
  float observation_clip = 10.0f;   // normalised observations are clipped to +-this
  int64_t log_interval = 10000;     // environment steps between progress reports
  int64_t eval_interval = 0;        // environment steps between evaluation hooks (0: never)
  int64_t checkpoint_interval = 0;  // environment steps between checkpoints (0: only at the end)
  int episode_window = 100;         // episodes averaged in progress reports
};

struct ExperimentConfig {
  // The top-level sections that belong to the twin, passed through unparsed.
  static const std::vector<std::string>& TwinSections();  // network, traffic, measurement, env

  std::string name;  // defaults to the file's stem
  std::string description;
  std::string source;  // the file it was read from ("<inline>" otherwise)
  nlohmann::json twin = nlohmann::json::object();  // {"network": ..., "traffic": ..., ...}
  TrainOptions train;
  ModelOptions model;
  PpoOptions ppo;
  DqnOptions dqn;
  EsOptions es;
};

// Reads and validates a file; errors name the file and the key.
ExperimentConfig LoadExperimentConfig(const std::string& path);
// `source` names the document in error messages (a file name, or "<inline>").
ExperimentConfig ParseExperimentConfig(const nlohmann::json& j, const std::string& source);
// The full config with every learner default filled in (what a run records with its results);
// the twin sections as given.
nlohmann::json ToJson(const ExperimentConfig& config);
// Flat "section.key" -> value strings, e.g. {"ppo.clip": "0.2", "traffic.load_erlang": "250"},
// for experiment tracking.
std::map<std::string, std::string> FlattenParams(const ExperimentConfig& config);

ModelOptions ParseModelOptions(const nlohmann::json& j, const std::string& source);
nlohmann::json ToJson(const ModelOptions& options);

// Linear interpolation from `start` to `end` over the first `fraction` of training, then `end`.
double LinearSchedule(double start, double end, double fraction, double progress);

}  // namespace eonops::agents
