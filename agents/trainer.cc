#include "agents/trainer.h"

#include <ATen/Parallel.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include "agents/dqn.h"
#include "agents/model.h"
#include "agents/normalizer.h"
#include "agents/ppo.h"
#include "agents/random.h"
#include "agents/replay_buffer.h"
#include "agents/rollout_storage.h"
#include "agents/schedule.h"
#include "agents/torch_policy.h"

namespace eonops::agents {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kCheckpointFormat = 1;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct Trainer::Impl {
  ExperimentConfig config;
  twin::VecEnv::Factory factory;
  TrainerSetup setup;
  std::unique_ptr<twin::BatchedEnv> vec;
  twin::EnvSpec spec;
  int num_envs = 0, obs_size = 0, num_actions = 0;

  std::optional<RunningNormalizer> normalizer;
  std::optional<RunningNormalizer> rank_statistics;  // data-parallel: this rollout's, unmerged
  Rng act_rng;  // action sampling (PPO) and exploration (DQN)

  // PPO
  std::unique_ptr<Ppo> ppo;
  std::unique_ptr<RolloutStorage> storage;
  // The fused rollout path's outputs (overwritten each step; the storage copies them).
  torch::Tensor act_actions, act_log_probs, act_values;
  FusedActorCritic::Workspace act_workspace;
  // DQN
  std::unique_ptr<Dqn> dqn;
  std::unique_ptr<ReplayBuffer> replay;

  // Schedules over env_steps (checkpointed): PPO's learning-rate scale, DQN's epsilon.
  StepSchedule lr_schedule, epsilon_schedule;
  std::vector<std::string> schedule_notes;

  // Counters (checkpointed).
  int64_t env_steps = 0, updates = 0, episodes = 0, vector_steps = 0;
  double reward_mean = 0;  // ppo.reward_centering
  int64_t reward_count = 0;
  std::deque<double> recent_rewards;
  std::vector<double> episode_reward;
  std::vector<int64_t> episode_length, episode_accepted;

  // Reporting windows (not checkpointed: they restart with each Train()).
  bool envs_started = false;
  int64_t window_steps = 0, window_accepted = 0;
  int64_t call_steps = 0, call_accepted = 0;  // of the current Train() call
  Clock::time_point window_start;
  std::map<std::string, double> last_metrics;
  int64_t next_log = 0, next_eval = 0, next_checkpoint = 0;
  int64_t last_eval = -1, last_checkpoint = -1;  // env_steps of the latest ones

  // Scratch buffers.
  std::vector<float> obs_buf, raw_prev, bootstrapped;
  std::vector<int32_t> actions;

  Impl(const ExperimentConfig& c, const twin::VecEnv::Factory& f, TrainerSetup s)
      : config(c), factory(f), setup(std::move(s)) {
    const TrainOptions& t = config.train;
    if (t.algorithm == Algorithm::kEs) {
      throw ConfigError(config.source + ": train.algorithm: es runs through agents::EsTrainer, not Trainer");
    }
    SetTorchThreads(t.torch_threads);
    torch::manual_seed(t.seed);
    if (dp() && t.algorithm != Algorithm::kPpo)
      throw ConfigError(config.name + ": data-parallel training is implemented for PPO only");
    MakeVecEnv(RankSeed(t.seed, rank()));
    spec = vec->Spec();
    num_envs = vec->NumEnvs();
    obs_size = spec.observation_size;
    num_actions = spec.num_actions;
    if (obs_size <= 0 || num_actions <= 0) {
      throw std::invalid_argument("Trainer: environment '" + spec.name +
                                  "' has an empty observation or action space");
    }
    if (config.model.policy == PolicyArchitecture::kCandidateScorer) ConfigureScorer();
    if (t.normalize_observations) normalizer.emplace(obs_size, t.observation_clip);
    const int64_t horizon = t.schedule_steps > 0 ? t.schedule_steps : t.total_steps;
    lr_schedule = config.ppo.anneal_learning_rate ? StepSchedule::Linear(1.0, 0.0, horizon)
                                                  : StepSchedule::Constant(1.0);
    epsilon_schedule = StepSchedule::Linear(
        config.dqn.epsilon_start, config.dqn.epsilon_end,
        static_cast<int64_t>(static_cast<double>(config.dqn.exploration_fraction) * horizon));
    act_rng.seed(RankSeed(DeriveSeed(t.seed, 1), rank()));
    obs_buf.resize(static_cast<size_t>(num_envs) * obs_size);
    raw_prev.resize(obs_buf.size());
    actions.resize(num_envs);
    episode_reward.assign(num_envs, 0.0);
    episode_length.assign(num_envs, 0);
    episode_accepted.assign(num_envs, 0);

    if (t.algorithm == Algorithm::kPpo) {
      const PpoOptions& p = config.ppo;
      const int64_t rollout = static_cast<int64_t>(p.rollout_steps) * num_envs;
      if (p.minibatches > rollout) {
        throw ConfigError(config.name + ": ppo.minibatches: " + std::to_string(p.minibatches) +
                          " is more than the rollout's " + std::to_string(rollout) + " samples");
      }
      const int64_t total_updates = (t.total_steps + rollout - 1) / rollout;
      ppo = std::make_unique<Ppo>(ActorCritic(obs_size, num_actions, config.model), p,
                                  total_updates, RankSeed(DeriveSeed(t.seed, 2), rank()));
      if (t.learner_threads > 1) {
        // Building the replicas draws initial weights (overwritten by the model's): keep torch's
        // generator where it was, so that the rest of the run is as with one learner thread.
        at::Generator gen = at::detail::getDefaultCPUGenerator();
        const at::Tensor rng_state = gen.get_state();
        std::vector<ActorCritic> replicas;
        for (int i = 1; i < t.learner_threads; ++i)
          replicas.push_back(ActorCritic(obs_size, num_actions, config.model));
        gen.set_state(rng_state);
        ppo->SetLearnerReplicas(std::move(replicas));
      }
      if (dp()) {
        BroadcastParameters(*dp(), *ppo->model());
        ppo->set_after_backward(
            [this](double* approx_kl) { AverageGradients(*dp(), *ppo->model(), approx_kl); });
        if (normalizer) rank_statistics.emplace(obs_size, t.observation_clip);
      }
      storage = std::make_unique<RolloutStorage>(p.rollout_steps, num_envs, obs_size, num_actions);
      act_actions = torch::zeros({num_envs}, torch::kLong);
      act_log_probs = torch::zeros({num_envs});
      act_values = torch::zeros({num_envs});
    } else {
      dqn = std::make_unique<Dqn>(QNetwork(obs_size, num_actions, config.model), config.dqn,
                                  DeriveSeed(t.seed, 2));
      replay = std::make_unique<ReplayBuffer>(config.dqn.buffer_size, obs_size, num_actions);
    }
  }

  // A candidate scorer reads each action's features where the env's layout puts them.
  void ConfigureScorer() {
    if (spec.name.empty()) throw ConfigError(config.source + ": model.policy: candidate-scorer needs an environment");
    ConfigureCandidateScorer(spec, &config);
  }

  // The data-parallel group when there is more than this rank, else null.
  DataParallelGroup* dp() const {
    return setup.data_parallel && setup.data_parallel->world_size() > 1 ? setup.data_parallel
                                                                        : nullptr;
  }
  int rank() const { return dp() ? dp()->rank() : 0; }

  void MakeVecEnv(uint64_t seed) {
    vec.reset();  // a remote batch is closed before its successor opens
    if (setup.make_envs) {
      vec = setup.make_envs(seed);
      if (!vec || vec->NumEnvs() != config.train.num_envs) {
        throw std::invalid_argument("Trainer: make_envs made " +
                                    std::to_string(vec ? vec->NumEnvs() : 0) +
                                    " environments, train.num_envs is " +
                                    std::to_string(config.train.num_envs));
      }
    } else {
      vec = std::make_unique<twin::VecEnv>(factory, config.train.num_envs, seed,
                                           config.train.env_threads);
    }
    envs_started = false;
  }

  torch::nn::Module& network() const {
    if (ppo) return *ppo->model();
    return *dqn->online();
  }

  // Normalises (when enabled) the VecEnv's current observations into obs_buf.
  torch::Tensor CurrentObservations(bool update_statistics) {
    const float* raw = vec->Observations();
    if (normalizer) {
      // Data-parallel: this rank's statistics wait for the end of the rollout, where all
      // ranks' are merged (the same normaliser everywhere, so the same policy).
      if (update_statistics) (rank_statistics ? *rank_statistics : *normalizer).Update(raw, num_envs);
      normalizer->Normalize(raw, obs_buf.data(), num_envs);
    } else {
      std::copy_n(raw, obs_buf.size(), obs_buf.data());
    }
    return FloatTensor(obs_buf.data(), num_envs, obs_size);
  }

  void AfterStep() {
    const float* rewards = vec->Rewards();
    const uint8_t* dones = vec->Dones();
    const uint8_t* accepted = vec->Accepted();
    for (int i = 0; i < num_envs; ++i) {
      episode_reward[i] += rewards[i];
      ++episode_length[i];
      episode_accepted[i] += accepted[i];
      window_accepted += accepted[i];
      call_accepted += accepted[i];
      if (!dones[i]) continue;
      EpisodeRecord e;
      e.env_steps = env_steps + num_envs;
      e.env_index = i;
      e.reward = episode_reward[i];
      e.length = episode_length[i];
      e.accepted = episode_accepted[i];
      if (setup.logger) setup.logger->LogEpisode(e);
      recent_rewards.push_back(e.reward);
      while (static_cast<int>(recent_rewards.size()) > config.train.episode_window) {
        recent_rewards.pop_front();
      }
      ++episodes;
      episode_reward[i] = 0;
      episode_length[i] = 0;
      episode_accepted[i] = 0;
    }
    env_steps += num_envs;
    window_steps += num_envs;
    call_steps += num_envs;
    ++vector_steps;
  }

  double MeanRecentReward() const {
    if (recent_rewards.empty()) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0;
    for (double r : recent_rewards) sum += r;
    return sum / recent_rewards.size();
  }

  void ResetSchedule() {
    const TrainOptions& t = config.train;
    auto next = [&](int64_t interval) {
      return interval > 0 ? (env_steps / interval + 1) * interval
                          : std::numeric_limits<int64_t>::max();
    };
    next_log = next(t.log_interval);
    next_eval = next(t.eval_interval);
    next_checkpoint = next(t.checkpoint_interval);
  }

  // Progress report, evaluation and checkpoint when their step has come.
  void Periodic(Trainer& self, Clock::time_point train_start) {
    if (env_steps >= next_log) {
      Report(train_start);
      next_log = (env_steps / config.train.log_interval + 1) * config.train.log_interval;
    }
    if (env_steps >= next_eval) {
      RunEvaluation(self);
      next_eval = (env_steps / config.train.eval_interval + 1) * config.train.eval_interval;
    }
    if (env_steps >= next_checkpoint) {
      if (!setup.checkpoint_dir.empty()) Checkpoint(self);
      next_checkpoint =
          (env_steps / config.train.checkpoint_interval + 1) * config.train.checkpoint_interval;
    }
  }

  void Report(Clock::time_point train_start) {
    const Clock::time_point now = Clock::now();
    Progress p;
    p.env_steps = env_steps;
    p.total_steps = config.train.total_steps;
    p.updates = updates;
    p.episodes = episodes;
    p.elapsed_s = Seconds(now - train_start);
    const double window_s = Seconds(now - window_start);
    p.steps_per_second = window_s > 0 ? window_steps / window_s : 0.0;
    p.mean_episode_reward = MeanRecentReward();
    p.blocking = window_steps > 0 ? 1.0 - static_cast<double>(window_accepted) / window_steps : 0.0;
    p.metrics = last_metrics;
    if (setup.logger) {
      std::map<std::string, double> m = last_metrics;
      m["rollout/blocking"] = p.blocking;
      if (!recent_rewards.empty()) m["rollout/episode_reward"] = p.mean_episode_reward;
      m["rollout/episodes"] = static_cast<double>(episodes);
      m["time/steps_per_second"] = p.steps_per_second;
      setup.logger->LogMetrics(env_steps, m);
    }
    if (setup.hooks.on_progress) setup.hooks.on_progress(p);
    window_steps = 0;
    window_accepted = 0;
    window_start = now;
  }

  void RunEvaluation(const Trainer& self) {
    if (!setup.hooks.evaluate) return;
    last_eval = env_steps;
    std::unique_ptr<Policy> snapshot = self.SnapshotPolicy();
    std::map<std::string, double> metrics = setup.hooks.evaluate(*snapshot, env_steps);
    if (setup.logger && !metrics.empty()) {
      std::map<std::string, double> prefixed;
      for (const auto& [k, v] : metrics) prefixed["eval/" + k] = v;
      setup.logger->LogMetrics(env_steps, prefixed);
    }
  }

  void Checkpoint(const Trainer& self) {
    last_checkpoint = env_steps;
    self.SaveCheckpoint(setup.checkpoint_dir);
    if (setup.hooks.on_checkpoint) setup.hooks.on_checkpoint(setup.checkpoint_dir);
  }

  void StartEnvs() {
    if (envs_started) return;
    vec->Reset();
    envs_started = true;
  }

  // The step's rewards, plus gamma V(s') where the episode was truncated: the network goes on
  // after an episode's last step, so its value is not zero there (SB3's handling of
  // TimeLimit.truncated). GAE then stops at the boundary as for any done (the next stored
  // observation belongs to the reset episode).
  const float* BootstrappedRewards(float gamma) {
    const float* rewards = vec->Rewards();
    const uint8_t* truncated = vec->Truncated();
    bootstrapped.assign(rewards, rewards + num_envs);
    if (config.ppo.reward_centering) {
      // The running mean over every reward seen so far (checkpointed with the counters).
      double sum = 0;
      for (int i = 0; i < num_envs; ++i) sum += rewards[i];
      reward_count += num_envs;
      reward_mean += (sum - num_envs * reward_mean) / static_cast<double>(reward_count);
      for (int i = 0; i < num_envs; ++i) bootstrapped[i] -= static_cast<float>(reward_mean);
    }
    std::vector<int> rows;
    for (int i = 0; i < num_envs; ++i) {
      if (truncated[i]) rows.push_back(i);
    }
    if (rows.empty()) return bootstrapped.data();
    std::vector<float> finals(rows.size() * static_cast<size_t>(obs_size));
    const float* final_obs = vec->FinalObservations();
    for (size_t r = 0; r < rows.size(); ++r) {
      std::copy_n(final_obs + static_cast<size_t>(rows[r]) * obs_size, obs_size, &finals[r * obs_size]);
    }
    if (normalizer) normalizer->Normalize(finals.data(), finals.data(), static_cast<int>(rows.size()));
    torch::NoGradGuard no_grad;
    torch::Tensor v =
        ppo->model()->Value(FloatTensor(finals.data(), static_cast<int64_t>(rows.size()), obs_size));
    const float* value = v.data_ptr<float>();
    for (size_t r = 0; r < rows.size(); ++r) bootstrapped[rows[r]] += gamma * value[r];
    return bootstrapped.data();
  }

  // One PPO iteration: a rollout of rollout_steps vector steps, then one update.
  void PpoIteration() {
    const PpoOptions& p = config.ppo;
    const Clock::time_point rollout_start = Clock::now();
    double act_seconds = 0;
    for (int t = 0; t < p.rollout_steps; ++t) {
      torch::Tensor obs = CurrentObservations(/*update_statistics=*/true);
      torch::Tensor masks = MaskTensor(vec->Masks(), num_envs, num_actions);
      ActOutput act;
      const Clock::time_point act_start = Clock::now();
      if (const FusedActorCritic* fused = ppo->fused()) {
        // The same sampling without torch's per-operation dispatch (agents/fused_mlp.h).
        fused->Act(obs.data_ptr<float>(), masks.data_ptr<bool>(), num_envs, act_rng,
                   act_actions.data_ptr<int64_t>(), act_log_probs.data_ptr<float>(),
                   act_values.data_ptr<float>(), act_workspace);
        act = {act_actions, act_log_probs, act_values};
      } else {
        torch::NoGradGuard no_grad;
        act = ppo->model()->Act(obs, masks, &act_rng);
      }
      act_seconds += Seconds(Clock::now() - act_start);
      const int64_t* a = act.action.data_ptr<int64_t>();
      for (int i = 0; i < num_envs; ++i) actions[i] = static_cast<int32_t>(a[i]);
      vec->Step(actions.data());
      storage->Insert(t, obs, masks, act, BootstrappedRewards(p.gamma), vec->Dones());
      AfterStep();
    }
    if (rank_statistics) MergeAcrossRanks(*dp(), *rank_statistics, *normalizer);
    torch::Tensor last_value;
    // The rate of the schedule at the rollout's first step (as a decay per update would give).
    ppo->SetLearningRateScale(lr_schedule.At(env_steps - static_cast<int64_t>(p.rollout_steps) * num_envs));
    {
      torch::NoGradGuard no_grad;
      // The statistics see these observations at the next rollout's first step.
      last_value = ppo->model()->Value(CurrentObservations(/*update_statistics=*/false));
    }
    storage->ComputeReturns(last_value, p.gamma, p.gae_lambda);
    const Clock::time_point update_start = Clock::now();
    UpdateStats stats = ppo->Update(*storage);
    ++updates;
    last_metrics = stats.ToMetrics();
    // Where the iteration's time went: acting and stepping the environments, or learning.
    last_metrics["time/rollout_s"] = Seconds(update_start - rollout_start);
    last_metrics["time/update_s"] = Seconds(Clock::now() - update_start);
    last_metrics["time/act_s"] = act_seconds;
    if (config.ppo.reward_centering) last_metrics["train/reward_mean"] = reward_mean;
  }

  // One DQN vector step: epsilon-greedy masked actions, store transitions, maybe learn.
  void DqnStep() {
    const DqnOptions& d = config.dqn;
    const double epsilon = epsilon_schedule.At(env_steps);
    const float* raw = vec->Observations();
    std::copy_n(raw, raw_prev.size(), raw_prev.data());
    torch::Tensor obs = CurrentObservations(/*update_statistics=*/true);
    torch::Tensor masks = MaskTensor(vec->Masks(), num_envs, num_actions);
    torch::Tensor greedy = dqn->Greedy(obs, masks);
    const int64_t* g = greedy.data_ptr<int64_t>();
    const uint8_t* mask = vec->Masks();
    for (int i = 0; i < num_envs; ++i) {
      int a = static_cast<int>(g[i]);
      if (Uniform01(act_rng) < epsilon) {
        int random =
            RandomMaskedAction(mask + static_cast<size_t>(i) * num_actions, num_actions, act_rng);
        if (random >= 0) a = random;
      }
      actions[i] = a;
    }
    vec->Step(actions.data());
    for (int i = 0; i < num_envs; ++i) {
      // After a done, the VecEnv's observation is the reset episode's: the transition's next
      // state is the final observation instead. A truncated episode bootstraps from it (the
      // network goes on); only a terminated one has no next value.
      const bool done = vec->Dones()[i] != 0;
      const float* next = done ? vec->FinalObservations() : vec->Observations();
      const uint8_t* next_mask = done ? vec->FinalMasks() : vec->Masks();
      const bool terminated = done && !vec->Truncated()[i];
      replay->Add(&raw_prev[static_cast<size_t>(i) * obs_size], actions[i], vec->Rewards()[i],
                  &next[static_cast<size_t>(i) * obs_size],
                  &next_mask[static_cast<size_t>(i) * num_actions], terminated);
    }
    AfterStep();
    if (env_steps >= d.learning_starts && replay->size() >= d.batch_size &&
        vector_steps % d.train_frequency == 0) {
      DqnUpdateStats stats = dqn->Update(*replay, normalizer ? &*normalizer : nullptr);
      ++updates;
      last_metrics = stats.ToMetrics();
      last_metrics["train/epsilon"] = epsilon;
    }
  }
};

Trainer::Trainer(const ExperimentConfig& config, const twin::VecEnv::Factory& env_factory,
                 TrainerSetup setup)
    : impl_(std::make_unique<Impl>(config, env_factory, std::move(setup))) {}

Trainer::~Trainer() = default;

int64_t Trainer::env_steps() const { return impl_->env_steps; }
int64_t Trainer::updates() const { return impl_->updates; }
const ExperimentConfig& Trainer::config() const { return impl_->config; }
const twin::EnvSpec& Trainer::spec() const { return impl_->spec; }

TrainResult Trainer::Train(int64_t until_steps) {
  Impl& m = *impl_;
  if (until_steps < 0) until_steps = m.config.train.total_steps;
  ExtendSchedules(until_steps);
  if (m.setup.logger && m.env_steps == 0) {
    m.setup.logger->LogParams(FlattenParams(m.config));
  }
  const Clock::time_point start = Clock::now();
  const int64_t start_steps = m.env_steps;
  m.window_start = start;
  m.window_steps = m.window_accepted = 0;
  m.call_steps = m.call_accepted = 0;
  m.ResetSchedule();
  m.StartEnvs();
  while (m.env_steps < until_steps) {
    if (m.ppo) {
      m.PpoIteration();
    } else {
      m.DqnStep();
    }
    m.Periodic(*this, start);
  }
  if (m.env_steps > start_steps) {  // the final state, unless a periodic one just covered it
    if (m.setup.hooks.evaluate && m.last_eval != m.env_steps) m.RunEvaluation(*this);
    if (!m.setup.checkpoint_dir.empty() && m.last_checkpoint != m.env_steps) m.Checkpoint(*this);
  }
  TrainResult r;
  r.env_steps = m.env_steps;
  r.updates = m.updates;
  r.episodes = m.episodes;
  r.elapsed_s = Seconds(Clock::now() - start);
  r.steps_per_second = r.elapsed_s > 0 ? (m.env_steps - start_steps) / r.elapsed_s : 0.0;
  r.mean_episode_reward = m.MeanRecentReward();
  r.blocking = m.call_steps > 0 ? 1.0 - static_cast<double>(m.call_accepted) / m.call_steps : 0.0;
  return r;
}

std::vector<std::string> Trainer::ExtendSchedules(int64_t steps) {
  Impl& m = *impl_;
  std::vector<std::string> notes;
  std::string n = m.lr_schedule.ExtendTo(m.env_steps, steps);
  if (!n.empty() && m.ppo) notes.push_back("learning rate (x ppo.learning_rate): " + n);
  // Exploration keeps its share of the longer run while it is still decaying; once it has
  // reached epsilon_end it stays there (no second exploration phase).
  const int64_t eps_end = static_cast<int64_t>(static_cast<double>(m.config.dqn.exploration_fraction) * steps);
  n = m.epsilon_schedule.ExtendTo(m.env_steps, eps_end, /*restart_if_ended=*/false);
  if (!n.empty() && m.dqn) notes.push_back("epsilon: " + n);
  m.schedule_notes.insert(m.schedule_notes.end(), notes.begin(), notes.end());
  return notes;
}

nlohmann::json Trainer::ScheduleJson() const {
  const Impl& m = *impl_;
  nlohmann::json j = {{"learning_rate_scale", m.lr_schedule.ToJson()}};
  if (m.dqn) j["epsilon"] = m.epsilon_schedule.ToJson();
  if (!m.schedule_notes.empty()) j["notes"] = m.schedule_notes;
  return j;
}

Manifest Trainer::MakeManifest() const {
  const Impl& m = *impl_;
  Manifest manifest;
  manifest.eonops_version = EonopsVersion();
  manifest.algorithm = ToString(m.config.train.algorithm);
  manifest.network = m.ppo ? NetworkKind::kActorCritic : NetworkKind::kQNetwork;
  manifest.architecture = m.config.model;
  SetEnvSpec(m.spec, &manifest);
  manifest.env_config = m.config.twin;
  manifest.normalization = m.normalizer;
  manifest.run_id =
      !m.setup.run_id.empty() ? m.setup.run_id : (m.setup.logger ? m.setup.logger->RunId() : "");
  manifest.experiment = m.config.name;
  manifest.train_steps = m.env_steps;
  manifest.seed = m.config.train.seed;
  manifest.created_at = UtcTimestamp();
  manifest.schedule = ScheduleJson();
  return manifest;
}

void Trainer::ExportPolicy(const std::string& dir) const {
  agents::ExportPolicy(MakeManifest(), impl_->network(), dir);
}

std::unique_ptr<Policy> Trainer::SnapshotPolicy() const {
  return MakePolicy(MakeManifest(), impl_->network());
}

void Trainer::SaveCheckpoint(const std::string& dir) const {
  const Impl& m = *impl_;
  const fs::path target(dir);
  const fs::path tmp = target.string() + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);

  json state;
  state["format"] = kCheckpointFormat;
  state["algorithm"] = ToString(m.config.train.algorithm);
  state["experiment"] = m.config.name;
  state["config"] = ToJson(m.config);
  state["env"] = {{"name", m.spec.name},
                  {"config_hash", m.spec.config_hash},
                  {"observation_size", m.obs_size},
                  {"num_actions", m.num_actions},
                  {"num_envs", m.num_envs}};
  state["counters"] = {
      {"env_steps", m.env_steps},
      {"updates", m.updates},
      {"episodes", m.episodes},
      {"vector_steps", m.vector_steps},
      {"algorithm_updates", m.ppo ? m.ppo->updates_done() : m.dqn->updates_done()},
      {"reward_mean", m.reward_mean},
      {"reward_count", m.reward_count}};
  state["rng"] = {{"act", SaveRng(m.act_rng)},
                  {"algorithm", SaveRng(m.ppo ? m.ppo->rng() : m.dqn->rng())}};
  state["normalization"] = m.normalizer ? m.normalizer->ToJson() : json(nullptr);
  state["schedules"] = {{"learning_rate_scale", m.lr_schedule.ToJson()},
                        {"epsilon", m.epsilon_schedule.ToJson()},
                        {"notes", m.schedule_notes}};
  state["recent_rewards"] = std::vector<double>(m.recent_rewards.begin(), m.recent_rewards.end());
  state["run_id"] = MakeManifest().run_id;
  state["saved_at"] = UtcTimestamp();

  SaveModule(m.network(), (tmp / "model.pt").string());
  {
    torch::serialize::OutputArchive archive;
    if (m.ppo) {
      m.ppo->optimizer().save(archive);
    } else {
      m.dqn->optimizer().save(archive);
    }
    archive.save_to((tmp / "optimizer.pt").string());
  }
  if (m.dqn) {
    SaveModule(*m.dqn->target(), (tmp / "target.pt").string());
    std::ofstream out(tmp / "replay.bin", std::ios::binary);
    m.replay->Save(out);
    if (!out) throw std::runtime_error((tmp / "replay.bin").string() + ": write failed");
  }
  {
    std::ofstream out(tmp / "state.json");
    out << state.dump(2) << "\n";
    if (!out) throw std::runtime_error((tmp / "state.json").string() + ": write failed");
  }
  // Swap in the new checkpoint; the old one survives until the new one is complete.
  const fs::path old = target.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(tmp, target);
  fs::remove_all(old);
}

void Trainer::WarmStart(const std::string& policy_dir) {
  Impl& m = *impl_;
  const Manifest p = ReadManifest(policy_dir);
  auto fail = [&](const std::string& why) {
    throw ConfigError(policy_dir + ": cannot warm-start from this policy: " + why);
  };
  if (m.env_steps > 0) fail("this run has already trained " + std::to_string(m.env_steps) + " steps");
  if (p.algorithm != ToString(m.config.train.algorithm))
    fail("it is " + p.algorithm + ", this run is " + ToString(m.config.train.algorithm));
  if (p.env_name != m.spec.name || p.observation_size != m.obs_size ||
      p.num_actions != m.num_actions) {
    fail("it was trained on '" + p.env_name + "' with " + std::to_string(p.observation_size) +
         " observations and " + std::to_string(p.num_actions) + " actions; this run's is '" +
         m.spec.name + "' with " + std::to_string(m.obs_size) + " and " +
         std::to_string(m.num_actions));
  }
  if (!(p.architecture == m.config.model)) fail("its network architecture differs from the model section");
  if (p.normalization.has_value() != m.normalizer.has_value())
    fail("observation normalisation differs from train.normalize_observations");
  const std::string weights = (fs::path(policy_dir) / p.weights_file).string();
  LoadModule(m.network(), weights);
  if (m.dqn) LoadModule(*m.dqn->target(), weights);
  if (m.normalizer) m.normalizer = *p.normalization;
}

void Trainer::LoadCheckpoint(const std::string& dir) {
  Impl& m = *impl_;
  const fs::path root(dir);
  const std::string state_path = (root / "state.json").string();
  std::ifstream in(state_path);
  if (!in) throw ConfigError(state_path + ": cannot open (is '" + dir + "' a checkpoint?)");
  json state;
  try {
    state = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError(state_path + ": invalid JSON: " + e.what());
  }
  auto fail = [&](const std::string& key, const std::string& why) {
    throw ConfigError(state_path + ": " + key + ": " + why);
  };
  try {
    if (state.at("format").get<int>() != kCheckpointFormat) fail("format", "unsupported version");
    const std::string algorithm = state.at("algorithm").get<std::string>();
    if (algorithm != ToString(m.config.train.algorithm)) {
      fail("algorithm",
           "checkpoint is " + algorithm + ", this run is " + ToString(m.config.train.algorithm));
    }
    const json& env = state.at("env");
    if (env.at("name").get<std::string>() != m.spec.name ||
        env.at("observation_size").get<int>() != m.obs_size ||
        env.at("num_actions").get<int>() != m.num_actions) {
      fail("env", "checkpoint was made on environment '" + env.at("name").get<std::string>() +
                      "' with " + std::to_string(env.at("observation_size").get<int>()) +
                      " observations and " + std::to_string(env.at("num_actions").get<int>()) +
                      " actions; this run's is '" + m.spec.name + "' with " +
                      std::to_string(m.obs_size) + " and " + std::to_string(m.num_actions));
    }
    if (env.at("config_hash").get<std::string>() != m.spec.config_hash) {
      fail("env.config_hash", "the environment's configuration changed since the checkpoint");
    }
    if (env.at("num_envs").get<int>() != m.num_envs) {
      fail("env.num_envs", "checkpoint used " + std::to_string(env.at("num_envs").get<int>()) +
                               " environments, this run " + std::to_string(m.num_envs));
    }
    const json& norm = state.at("normalization");
    if (norm.is_null() != !m.normalizer) {
      fail("normalization", "observation normalisation differs from this run's config");
    }

    LoadModule(m.network(), (root / "model.pt").string());
    {
      torch::serialize::InputArchive archive;
      archive.load_from((root / "optimizer.pt").string());
      if (m.ppo) {
        m.ppo->optimizer().load(archive);
      } else {
        m.dqn->optimizer().load(archive);
      }
    }
    if (m.dqn) {
      LoadModule(*m.dqn->target(), (root / "target.pt").string());
      std::ifstream replay(root / "replay.bin", std::ios::binary);
      if (!replay) fail("replay.bin", "missing");
      m.replay->Load(replay);
    }
    if (m.normalizer) m.normalizer = RunningNormalizer::FromJson(norm, state_path);

    const json& c = state.at("counters");
    m.env_steps = c.at("env_steps").get<int64_t>();
    m.updates = c.at("updates").get<int64_t>();
    m.episodes = c.at("episodes").get<int64_t>();
    m.vector_steps = c.at("vector_steps").get<int64_t>();
    m.reward_mean = c.value("reward_mean", 0.0);
    m.reward_count = c.value("reward_count", int64_t{0});
    if (m.ppo) {
      m.ppo->set_updates_done(c.at("algorithm_updates").get<int64_t>());
    } else {
      m.dqn->set_updates_done(c.at("algorithm_updates").get<int64_t>());
    }
    LoadRng(state.at("rng").at("act").get<std::string>(), &m.act_rng);
    LoadRng(state.at("rng").at("algorithm").get<std::string>(),
            m.ppo ? &m.ppo->rng() : &m.dqn->rng());
    if (state.contains("schedules")) {  // absent in checkpoints of earlier versions
      const json& sc = state.at("schedules");
      m.lr_schedule = StepSchedule::FromJson(sc.at("learning_rate_scale"), state_path);
      m.epsilon_schedule = StepSchedule::FromJson(sc.at("epsilon"), state_path);
      m.schedule_notes = sc.at("notes").get<std::vector<std::string>>();
    }
    const auto recent = state.at("recent_rewards").get<std::vector<double>>();
    m.recent_rewards.assign(recent.begin(), recent.end());
  } catch (const json::exception& e) {
    throw ConfigError(state_path + ": malformed checkpoint state: " + e.what());
  } catch (const c10::Error& e) {
    throw ConfigError(dir + ": unreadable checkpoint: " + e.what_without_backtrace());
  }
  // Episodes in flight cannot be restored through twin::Env: start fresh ones, seeded apart
  // from the ones already seen.
  const uint64_t fresh = DeriveSeed(m.config.train.seed, 1000 + static_cast<uint64_t>(m.env_steps));
  m.MakeVecEnv(RankSeed(fresh, m.rank()));
  if (m.dp()) {
    // Every rank loaded rank 0's checkpoint: the learner is the same everywhere; what each
    // rank samples must not be.
    if (m.rank() > 0) {
      m.act_rng.seed(RankSeed(DeriveSeed(fresh, 1), m.rank()));
      m.ppo->rng().seed(RankSeed(DeriveSeed(fresh, 2), m.rank()));
    }
    BroadcastParameters(*m.dp(), *m.ppo->model());
  }
  std::fill(m.episode_reward.begin(), m.episode_reward.end(), 0.0);
  std::fill(m.episode_length.begin(), m.episode_length.end(), 0);
  std::fill(m.episode_accepted.begin(), m.episode_accepted.end(), 0);
}

}  // namespace eonops::agents
