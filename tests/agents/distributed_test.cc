// Pins agents/distributed.h with real processes on loopback: two ranks of data-parallel PPO
// (c10d's Gloo process group over a TCPStore) hold bit-identical weights after every update
// while stepping different environments; a rank that dies makes the other fail with a clear
// error well within its timeout; a rank whose peer never comes fails the rendezvous at its
// timeout. The ranks are this test binary run again (DistributedRank.DISABLED_RankProcess).
#include "agents/distributed.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agents/trainer.h"
#include "tests/agents/test_envs.h"

extern char** environ;

namespace eonops::agents {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Every rank's greedy scores on a fixed set of observations, as hex, one line per update:
// equal lines mean equal weights and normaliser (the policy is both).
std::string ProbeScores(const Policy& policy) {
  std::ostringstream line;
  for (int c = 0; c < testing::MaskedContextBandit::kContexts; ++c) {
    float obs[testing::MaskedContextBandit::kObservation] = {};
    obs[c] = 1.0f;
    obs[testing::MaskedContextBandit::kContexts] = 0.3f * c;
    obs[testing::MaskedContextBandit::kContexts + 1] = -1.7f + c;
    const uint8_t mask[testing::MaskedContextBandit::kContexts] = {1, 1, 1, 1};
    float scores[testing::MaskedContextBandit::kContexts];
    policy.Scores(obs, mask, scores);
    for (float s : scores) {
      uint32_t bits;
      std::memcpy(&bits, &s, sizeof bits);
      line << std::hex << bits << ' ';
    }
  }
  return line.str();
}

// One rank, run by the tests below as a child process (skipped unless they set the variables):
// data-parallel PPO on the masked context bandit, logging its probe scores after every update.
TEST(DistributedRank, DISABLED_RankProcess) {
  const std::string dir = Env("EONOPS_DIST_TEST_DIR");
  if (dir.empty()) GTEST_SKIP() << "run by DataParallel tests only";
  DistributedOptions o = DistributedOptionsFromEnvironment();
  o.timeout = std::chrono::milliseconds(std::stoll(Env("EONOPS_DIST_TEST_TIMEOUT_MS")));
  const int die_after = Env("EONOPS_DIST_TEST_DIE_AFTER").empty()
                            ? -1
                            : std::stoi(Env("EONOPS_DIST_TEST_DIE_AFTER"));
  std::ofstream out(dir + "/rank" + std::to_string(o.rank) + ".txt");
  try {
    std::unique_ptr<DataParallelGroup> group = DataParallelGroup::Join(o);
    ExperimentConfig c = testing::TinyConfig(Algorithm::kPpo);
    c.train.num_envs = 4;
    c.train.env_threads = 1;
    c.train.normalize_observations = true;
    c.ppo.rollout_steps = 16;
    c.ppo.minibatches = 4;
    c.train.total_steps = 4 * 16 * 6;  // six updates per rank
    c.train.log_interval = 4 * 16;     // a progress report after every update
    TrainerSetup setup;
    setup.data_parallel = group.get();
    Trainer* trainer_ptr = nullptr;
    setup.hooks.on_progress = [&](const Progress& p) {
      out << "update " << p.updates << " " << ProbeScores(*trainer_ptr->SnapshotPolicy())
          << " blocking " << p.blocking << std::endl;
      if (die_after >= 0 && p.updates >= die_after) _exit(3);  // as a crash would: no goodbye
    };
    Trainer trainer(c, [] { return std::make_unique<testing::MaskedContextBandit>(); }, setup);
    trainer_ptr = &trainer;
    out << "update 0 " << ProbeScores(*trainer.SnapshotPolicy()) << std::endl;
    trainer.Train();
    out << "done" << std::endl;
  } catch (const DistributedError& e) {
    std::ofstream(dir + "/rank" + std::to_string(o.rank) + ".error") << e.what();
    _exit(4);
  }
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Rank {
  pid_t pid = -1;
  int exit_code = -1;
  Clock::time_point ended;
};

class DataParallel : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "eonops-dist-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    port_ = FreePort();
  }
  void TearDown() override {
    for (Rank& r : ranks_)
      if (r.pid > 0 && r.exit_code < 0) ::kill(r.pid, SIGKILL), ::waitpid(r.pid, nullptr, 0);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Starts this binary as rank `rank` of `world` (PyTorch's environment variables).
  void Spawn(int rank, int world, int timeout_ms, int die_after = -1) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.push_back("EONOPS_DIST_TEST_DIR=" + dir_);
    env.push_back("EONOPS_DIST_TEST_TIMEOUT_MS=" + std::to_string(timeout_ms));
    if (die_after >= 0) env.push_back("EONOPS_DIST_TEST_DIE_AFTER=" + std::to_string(die_after));
    env.push_back("WORLD_SIZE=" + std::to_string(world));
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + std::to_string(port_));
    std::vector<std::string> args = {"/proc/self/exe",
                                     "--gtest_filter=DistributedRank.DISABLED_RankProcess",
                                     "--gtest_also_run_disabled_tests"};
    const std::string log = dir_ + "/rank" + std::to_string(rank) + ".log";
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv, envp;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& e : env) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    Rank r;
    r.pid = pid;
    ranks_.push_back(r);
  }

  // Waits for every rank, at most `limit`; a rank still running then is killed (and fails).
  void WaitAll(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
      bool running = false;
      for (Rank& r : ranks_) {
        if (r.exit_code >= 0) continue;
        int status = 0;
        if (::waitpid(r.pid, &status, WNOHANG) == r.pid) {
          r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          r.ended = Clock::now();
        } else {
          running = true;
        }
      }
      if (!running) return;
      if (Clock::now() > deadline) {
        for (Rank& r : ranks_)
          if (r.exit_code < 0) {
            ::kill(r.pid, SIGKILL);
            ::waitpid(r.pid, nullptr, 0);
            r.exit_code = 200;
          }
        ADD_FAILURE() << "a rank hung";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::vector<std::string> Lines(const std::string& file) {
    std::ifstream in(dir_ + "/" + file);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  std::string Read(const std::string& file) {
    std::ifstream in(dir_ + "/" + file);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string dir_;
  int port_ = 0;
  std::vector<Rank> ranks_;
};

// The weights part of a line ("update N <scores>"), without the rank's own blocking figure.
std::string Weights(const std::string& line) { return line.substr(0, line.find(" blocking")); }

TEST_F(DataParallel, TwoRanksHoldIdenticalWeightsAfterEveryUpdate) {
  Spawn(0, 2, 60000);
  Spawn(1, 2, 60000);
  WaitAll(std::chrono::seconds(150));
  ASSERT_EQ(ranks_[0].exit_code, 0) << Read("rank0.log");
  ASSERT_EQ(ranks_[1].exit_code, 0) << Read("rank1.log");
  const auto a = Lines("rank0.txt"), b = Lines("rank1.txt");
  ASSERT_EQ(a.size(), 8u) << Read("rank0.txt");  // initial, six updates, done
  ASSERT_EQ(b.size(), a.size()) << Read("rank1.txt");
  bool ranks_saw_different_data = false;
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    EXPECT_EQ(Weights(a[i]), Weights(b[i])) << "after update " << i;
    if (i > 0) EXPECT_NE(Weights(a[i]), Weights(a[i - 1])) << "update " << i << " changed nothing";
    ranks_saw_different_data = ranks_saw_different_data || a[i] != b[i];
  }
  // Each rank stepped its own environments (differently seeded), not copies of the other's.
  EXPECT_TRUE(ranks_saw_different_data);
  EXPECT_EQ(a.back(), "done");
}

TEST_F(DataParallel, ARankThatDiesMakesTheOthersFailWithinTheTimeout) {
  constexpr int kTimeoutMs = 20000;
  Spawn(0, 2, kTimeoutMs);
  Spawn(1, 2, kTimeoutMs, /*die_after=*/2);
  WaitAll(std::chrono::seconds(120));
  EXPECT_EQ(ranks_[1].exit_code, 3);
  EXPECT_EQ(ranks_[0].exit_code, 4) << Read("rank0.log");
  const std::string error = Read("rank0.error");
  EXPECT_NE(error.find("data-parallel rank 0 of 2"), std::string::npos) << error;
  EXPECT_NE(error.find("another rank died"), std::string::npos) << error;
  // A dead peer closes its sockets: the survivor fails at once, well within the timeout.
  EXPECT_LT(ranks_[0].ended - ranks_[1].ended, std::chrono::milliseconds(kTimeoutMs));
}

TEST_F(DataParallel, ARankWhosePeerNeverComesFailsTheRendezvousAtItsTimeout) {
  const auto start = Clock::now();
  Spawn(0, 2, 3000);
  WaitAll(std::chrono::seconds(60));
  EXPECT_EQ(ranks_[0].exit_code, 4) << Read("rank0.log");
  const std::string error = Read("rank0.error");
  EXPECT_NE(error.find("cannot join the group"), std::string::npos) << error;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
}

TEST(DistributedOptions, ComeFromPyTorchsVariablesAndFlags) {
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "3", 1);
  ::setenv("MASTER_ADDR", "learner-0.learner", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  DistributedOptions o = DistributedOptionsFromEnvironment();
  EXPECT_EQ(o.world_size, 4);
  EXPECT_EQ(o.rank, 3);
  EXPECT_EQ(o.master_host, "learner-0.learner");
  EXPECT_EQ(o.master_port, 29511);
  ValidateDistributedOptions(o);
  ::setenv("RANK", "three", 1);
  EXPECT_THROW(DistributedOptionsFromEnvironment(), std::invalid_argument);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);

  ParseMaster("[fd00::5]:29600", &o);
  EXPECT_EQ(o.master_host, "fd00::5");
  EXPECT_EQ(o.master_port, 29600);
  EXPECT_THROW(ParseMaster("no-port", &o), std::invalid_argument);
  EXPECT_THROW(ParseMaster("host:99999", &o), std::invalid_argument);
  o.rank = 4;  // of 4
  EXPECT_THROW(ValidateDistributedOptions(o), std::invalid_argument);
  // Rank 0 keeps the run's seed (a one-rank run is a plain run); others differ.
  EXPECT_EQ(RankSeed(17, 0), 17u);
  EXPECT_NE(RankSeed(17, 1), RankSeed(17, 2));
  EXPECT_NE(RankSeed(17, 1), 17u);
}

}  // namespace
}  // namespace eonops::agents
