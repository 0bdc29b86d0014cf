// A twin worker that dies or hangs fails the learner's next call within the deadline, with an
// error naming the worker; it never hangs the learner. The worker is a real separate process:
// this test executable re-run with a filter that selects ChildWorker.DISABLED_Serve, which
// serves TwinService on an ephemeral port and writes the port to a file.
#include <grpcpp/support/status_code_enum.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "proto/remote_twin.h"
#include "proto/twin_server.h"
#include "tests/proto/proto_fixtures.h"

extern char** environ;

namespace eonops::proto {
namespace {

constexpr const char* kPortFileVar = "EONOPS_PROTO_TEST_WORKER_PORT_FILE";

// Runs only in the child (the variable is set): serve until killed.
TEST(ChildWorker, DISABLED_Serve) {
  const char* port_file = std::getenv(kPortFileVar);
  if (port_file == nullptr) GTEST_SKIP() << "only run as a child worker";
  TwinServerOptions o;
  o.port = 0;
  TwinServer server(o);
  const int port = server.Start();
  const std::string tmp = std::string(port_file) + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), port_file);
  server.Wait();
}

// A worker in a child process; killed (SIGKILL) when the test ends.
class ChildProcessWorker {
 public:
  ChildProcessWorker() {
    char dir_template[] = "/tmp/eonops-proto-worker-XXXXXX";
    dir_ = mkdtemp(dir_template);
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.push_back(*e);
    env_strings.push_back(std::string(kPortFileVar) + "=" + port_file);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe", filter = "--gtest_filter=ChildWorker.DISABLED_Serve",
                disabled = "--gtest_also_run_disabled_tests";
    char* argv[] = {exe.data(), filter.data(), disabled.data(), nullptr};
    if (posix_spawn(&pid_, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) pid_ = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        endpoint_ = "127.0.0.1:" + std::to_string(port);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~ChildProcessWorker() {
    Kill();
    std::remove((dir_ + "/port").c_str());
    rmdir(dir_.c_str());
  }
  const std::string& endpoint() const { return endpoint_; }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Alive, connected, silent; returns once the child is stopped.
  void Stop() {
    kill(pid_, SIGSTOP);
    int status = 0;
    waitpid(pid_, &status, WUNTRACED);
  }

 private:
  std::string dir_, endpoint_;
  pid_t pid_ = -1;
};

using Clock = std::chrono::steady_clock;

TEST(WorkerFailure, KilledWorkerFailsTheNextStepWithinTheDeadlineNamingIt) {
  ChildProcessWorker child;
  ASSERT_FALSE(child.endpoint().empty()) << "the child worker did not start";
  TwinServerOptions o;
  o.port = 0;
  TwinServer local_worker(o);
  const std::string healthy = "127.0.0.1:" + std::to_string(local_worker.Start());

  TwinClientOptions co;
  co.deadline = std::chrono::milliseconds(2000);
  RemoteVecEnv vec({healthy, child.endpoint()}, testing::ShortEpisodes(), 4, 3, co);
  vec.Reset();
  testing::ActionPicker picker(1);
  std::vector<int32_t> actions(4);
  for (int i = 0; i < 5; ++i) {
    picker.Pick(4, vec.Spec().num_actions, vec.Masks(), actions.data());
    vec.Step(actions.data());
  }
  child.Kill();
  const auto start = Clock::now();
  try {
    vec.Step(actions.data());
    FAIL() << "a step on a killed worker succeeded";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.endpoint(), child.endpoint());
    EXPECT_EQ(e.method(), "Step");
    EXPECT_NE(std::string(e.what()).find("twin worker " + child.endpoint() + ": Step: "),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(Clock::now() - start, co.deadline + std::chrono::milliseconds(500));
}

TEST(WorkerFailure, HungWorkerFailsTheStepAtTheDeadline) {
  ChildProcessWorker child;
  ASSERT_FALSE(child.endpoint().empty()) << "the child worker did not start";
  TwinClientOptions co;
  co.deadline = std::chrono::milliseconds(800);
  auto vec = std::make_unique<RemoteVecEnv>(std::vector<std::string>{child.endpoint()},
                                            testing::ShortEpisodes(), 2, 3, co);
  vec->Reset();
  child.Stop();
  std::vector<int32_t> actions(2, 0);
  auto start = Clock::now();
  try {
    vec->Step(actions.data());
    FAIL() << "a step on a stopped worker succeeded";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.endpoint(), child.endpoint());
    EXPECT_EQ(e.code(), grpc::StatusCode::DEADLINE_EXCEEDED) << e.what();
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, co.deadline - std::chrono::milliseconds(50));
  EXPECT_LT(elapsed, co.deadline + std::chrono::milliseconds(700));
  // Closing does not wait for the silent worker again.
  start = Clock::now();
  vec.reset();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(300));
}

}  // namespace
}  // namespace eonops::proto
