// proto/remote_twin.h against real twin workers on loopback: a learner's environments spread
// over several workers give, bit for bit, the trajectories of one local twin::VecEnv with the
// same seed (truncated episodes and their final observations included), across automatic
// resets and explicit Resets; agents::Trainer stepping them through twin::BatchedEnv learns
// exactly what it learns locally.
#include "proto/remote_twin.h"

#include <grpcpp/support/status_code_enum.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "agents/policy.h"
#include "agents/trainer.h"
#include "proto/twin_server.h"
#include "tests/proto/proto_fixtures.h"

namespace eonops::proto {
namespace {

using testing::ActionPicker;
using testing::LocalFactory;
using testing::ShortEpisodes;

struct Workers {
  explicit Workers(std::vector<int> threads) {
    for (int t : threads) {
      TwinServerOptions o;
      o.port = 0;
      o.threads = t;
      servers.push_back(std::make_unique<TwinServer>(o));
      endpoints.push_back("127.0.0.1:" + std::to_string(servers.back()->Start()));
    }
  }
  std::vector<std::unique_ptr<TwinServer>> servers;
  std::vector<std::string> endpoints;
};

template <class A, class B>
void ExpectSameState(const A& local, const B& remote, int n, const twin::EnvSpec& spec,
                     const std::string& where) {
  const size_t obs = static_cast<size_t>(n) * spec.observation_size * sizeof(float);
  const size_t masks = static_cast<size_t>(n) * spec.num_actions;
  ASSERT_EQ(std::memcmp(local.Observations(), remote.Observations(), obs), 0)
      << where << ": observations";
  ASSERT_EQ(std::memcmp(local.Masks(), remote.Masks(), masks), 0) << where << ": masks";
  ASSERT_EQ(std::memcmp(local.Rewards(), remote.Rewards(), n * sizeof(float)), 0)
      << where << ": rewards";
  ASSERT_EQ(std::memcmp(local.Dones(), remote.Dones(), n), 0) << where << ": dones";
  ASSERT_EQ(std::memcmp(local.Accepted(), remote.Accepted(), n), 0) << where << ": accepted";
  ASSERT_EQ(std::memcmp(local.Truncated(), remote.Truncated(), n), 0) << where << ": truncated";
  for (int i = 0; i < n; ++i) {
    if (!local.Dones()[i]) continue;  // the final rows of other environments are stale
    const size_t o = static_cast<size_t>(i) * spec.observation_size;
    const size_t m = static_cast<size_t>(i) * spec.num_actions;
    ASSERT_EQ(std::memcmp(local.FinalObservations() + o, remote.FinalObservations() + o,
                          spec.observation_size * sizeof(float)),
              0)
        << where << ": final observation of env " << i;
    ASSERT_EQ(std::memcmp(local.FinalMasks() + m, remote.FinalMasks() + m, spec.num_actions), 0)
        << where << ": final mask of env " << i;
  }
}

TEST(RemoteVecEnv, TrajectoriesAreBitIdenticalToLocalAcrossWorkersAndResets) {
  const twin::EnvConfig config = ShortEpisodes();
  Workers workers({1, 2, 3});
  const int n = 7;
  const uint64_t seed = 42;
  twin::VecEnv local(LocalFactory(config), n, seed, /*num_threads=*/2);
  RemoteVecEnv remote(workers.endpoints, config, n, seed);

  const twin::EnvSpec& spec = remote.Spec();
  EXPECT_EQ(spec.name, local.Spec().name);
  EXPECT_EQ(spec.config_hash, local.Spec().config_hash);
  EXPECT_EQ(spec.observation_size, local.Spec().observation_size);
  EXPECT_EQ(spec.num_actions, local.Spec().num_actions);
  EXPECT_EQ(spec.observation_layout.size(), local.Spec().observation_layout.size());
  EXPECT_EQ(remote.NumEnvs(), n);
  // Slices of 7 over 3 workers: [0,2) [2,4) [4,7).
  EXPECT_EQ(remote.EndpointOf(0), workers.endpoints[0]);
  EXPECT_EQ(remote.EndpointOf(3), workers.endpoints[1]);
  EXPECT_EQ(remote.EndpointOf(6), workers.endpoints[2]);

  ActionPicker picker(7);
  std::vector<int32_t> actions(n);
  int dones = 0, truncated = 0, accepted = 0, blocked = 0;
  for (int round = 0; round < 2; ++round) {
    local.Reset();
    remote.Reset();
    ExpectSameState(local, remote, n, spec, "after Reset " + std::to_string(round));
    for (int step = 0; step < 30; ++step) {
      picker.Pick(n, spec.num_actions, local.Masks(), actions.data());
      local.Step(actions.data());
      remote.Step(actions.data());
      ExpectSameState(local, remote, n, spec,
                      "round " + std::to_string(round) + " step " + std::to_string(step));
      for (int i = 0; i < n; ++i) {
        dones += local.Dones()[i];
        truncated += local.Truncated()[i];
        accepted += local.Accepted()[i];
        blocked += !local.Accepted()[i];
      }
    }
  }
  // The comparison covered automatic resets (episodes of 9 steps, which end on their step count:
  // truncated, with final observations), accepted and blocked steps.
  EXPECT_GE(dones, 2 * n * 3);
  EXPECT_GT(truncated, 0);
  EXPECT_GT(accepted, 0);
  EXPECT_GT(blocked, 0);

  // And it is not vacuous: another seed gives other observations.
  twin::VecEnv other(LocalFactory(config), n, seed + 1, 1);
  other.Reset();
  remote.Reset();
  EXPECT_NE(std::memcmp(other.Observations(), remote.Observations(),
                        static_cast<size_t>(n) * spec.observation_size * sizeof(float)),
            0);
}

TEST(RemoteVecEnv, MoreWorkersThanEnvironments) {
  const twin::EnvConfig config = ShortEpisodes();
  Workers workers({1, 1, 1});
  twin::VecEnv local(LocalFactory(config), 2, 5, 1);
  RemoteVecEnv remote(workers.endpoints, config, 2, 5);
  local.Reset();
  remote.Reset();
  ActionPicker picker(3);
  std::vector<int32_t> actions(2);
  for (int step = 0; step < 12; ++step) {
    picker.Pick(2, remote.Spec().num_actions, local.Masks(), actions.data());
    local.Step(actions.data());
    remote.Step(actions.data());
    ExpectSameState(local, remote, 2, remote.Spec(), "step " + std::to_string(step));
  }
  int open = 0;
  for (auto& s : workers.servers) open += s->Stats().open_batches;
  EXPECT_EQ(open, 2);  // the worker with no slice holds no batch
}

TEST(RemoteVecEnv, ClosesItsBatchesWhenDestroyed) {
  const twin::EnvConfig config = ShortEpisodes();
  Workers workers({1, 1});
  {
    RemoteVecEnv remote(workers.endpoints, config, 4, 1);
    EXPECT_EQ(workers.servers[0]->Stats().open_envs + workers.servers[1]->Stats().open_envs, 4);
  }
  EXPECT_EQ(workers.servers[0]->Stats().open_envs + workers.servers[1]->Stats().open_envs, 0);
}

TEST(RemoteVecEnv, TrainerLearnsTheSameFromRemoteEnvironments) {
  agents::ExperimentConfig c = testing::TinyExperiment();
  c.twin["env"]["episode_length"] = 24;
  c.twin["env"]["warmup"] = 100;
  c.train.total_steps = 256;  // 2 PPO updates of 4 envs x 32 steps
  c.train.num_envs = 4;
  c.train.log_interval = 1 << 30;
  const twin::EnvConfig env = twin::EnvConfig::FromJson(c.twin, c.source);
  Workers workers({1, 1});

  agents::Trainer local(c, LocalFactory(env));
  const agents::TrainResult a = local.Train();
  agents::TrainerSetup setup;
  int opened = 0;
  setup.make_envs = [&](uint64_t seed) {
    ++opened;
    return std::unique_ptr<twin::BatchedEnv>(
        ConnectTwins(workers.endpoints, env, c.train.num_envs, seed));
  };
  agents::Trainer remote(c, LocalFactory(env), setup);
  const agents::TrainResult b = remote.Train();
  EXPECT_EQ(opened, 1);
  // Every environment step was served by the workers.
  EXPECT_EQ(workers.servers[0]->Stats().steps_served + workers.servers[1]->Stats().steps_served,
            b.env_steps);

  EXPECT_EQ(a.env_steps, b.env_steps);
  EXPECT_EQ(a.updates, b.updates);
  EXPECT_GT(a.episodes, 0);
  EXPECT_EQ(a.episodes, b.episodes);
  EXPECT_EQ(a.mean_episode_reward, b.mean_episode_reward);
  EXPECT_EQ(a.blocking, b.blocking);
  EXPECT_EQ(local.spec().config_hash, remote.spec().config_hash);

  // Same weights: the two policies score a stream of observations identically.
  auto pa = local.SnapshotPolicy();
  auto pb = remote.SnapshotPolicy();
  auto probe = LocalFactory(env)();
  const int obs_size = probe->Spec().observation_size, num_actions = probe->Spec().num_actions;
  std::vector<float> obs(obs_size), sa(num_actions), sb(num_actions);
  std::vector<uint8_t> mask(num_actions);
  probe->Reset(77, obs.data(), mask.data());
  for (int i = 0; i < 40; ++i) {
    pa->Scores(obs.data(), mask.data(), sa.data());
    pb->Scores(obs.data(), mask.data(), sb.data());
    ASSERT_EQ(std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)), 0)
        << "observation " << i;
    probe->Step(pa->Act(obs.data(), mask.data()).action, obs.data(), mask.data());
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(RemoteVecEnv, UnreachableWorkerIsNamedWithinTheConnectTimeout) {
  const twin::EnvConfig config = ShortEpisodes();
  Workers workers({1});
  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  TwinClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(600);
  const auto start = std::chrono::steady_clock::now();
  try {
    RemoteVecEnv remote({workers.endpoints[0], dead}, config, 4, 1, o);
    FAIL() << "connected to a port nobody listens on";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.endpoint(), dead);
    EXPECT_NE(std::string(e.what()).find("twin worker " + dead), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600 + 1500));
}

TEST(RemoteVecEnv, RefusesWorkersThatBuildAnotherConfig) {
  twin::EnvConfig config = ShortEpisodes();
  Workers workers({1, 1});
  config.config_hash = "0123456789abcdef";  // what a learner with other defaults would expect
  try {
    RemoteVecEnv remote(workers.endpoints, config, 4, 1);
    FAIL() << "accepted a worker that built another config";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("config hash"), std::string::npos) << e.what();
  }
  // The batches it had opened were closed again.
  EXPECT_EQ(workers.servers[0]->Stats().open_envs + workers.servers[1]->Stats().open_envs, 0);
}

TEST(RemoteVecEnv, RestartedWorkerFailsTheNextStepNamingIt) {
  const twin::EnvConfig config = ShortEpisodes();
  TwinServerOptions o;
  o.port = 0;
  auto server = std::make_unique<TwinServer>(o);
  o.port = server->Start();
  const std::string endpoint = "127.0.0.1:" + std::to_string(o.port);
  TwinClientOptions co;
  co.deadline = std::chrono::milliseconds(1500);
  RemoteVecEnv remote({endpoint}, config, 2, 1, co);
  remote.Reset();
  server->Stop();
  server = std::make_unique<TwinServer>(o);  // same port, no batches
  server->Start();
  std::vector<int32_t> actions(2, 0);
  const auto start = std::chrono::steady_clock::now();
  try {
    remote.Step(actions.data());
    FAIL() << "stepped a batch the restarted worker does not have";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.endpoint(), endpoint);
    // Refused while the channel reconnects, or refused by the new worker for the handle.
    EXPECT_TRUE(e.code() == grpc::StatusCode::UNAVAILABLE ||
                e.code() == grpc::StatusCode::INVALID_ARGUMENT)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500 + 1000));
}

}  // namespace
}  // namespace eonops::proto
