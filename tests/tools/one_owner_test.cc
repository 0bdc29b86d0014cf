// One owner: the real `eonops` executable started twice. A second server on a busy port exits
// non-zero naming the port (no SO_REUSEPORT sharing); a second PCE on a state database in use
// exits non-zero naming the holder's pid; a config that is not what the command reads is refused
// naming the file; an installed eonops finds its configs beside it, from any directory. Also the
// `lifecycle register --policy-dir` command as a process, with the PCE that serves its version.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/pce/pce_test_util.h"

namespace eonops {
namespace {

namespace fs = std::filesystem;
using pce::testing::TempDir;

const std::string kEonops = std::string(EONOPS_BINARY_DIR) + "/tools/eonops";
const std::string kSource = EONOPS_SOURCE_DIR;

// A child process with its stdout and stderr captured.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& cwd = "", bool drop_config_env = true) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      close(out[0]);
      close(err[0]);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
      if (drop_config_env) unsetenv("EONOPS_CONFIGS");
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
    fcntl(out_, F_SETFL, O_NONBLOCK);
    fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }
  pid_t pid() const { return pid_; }

  // Reads until stdout contains `text` (true) or the process ends or `seconds` pass (false).
  bool WaitFor(const std::string& text, double seconds = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      Drain();
      if (stdout_.find(text) != std::string::npos) return true;
      if (Exited()) {
        Drain();
        return stdout_.find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Waits for the process to end; its exit code (128 + signal when killed, -1 on timeout).
  int Wait(double seconds = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      Drain();
      if (Exited()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Drain();
    return status_;
  }
  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  void Drain() {
    char buf[4096];
    ssize_t n;
    while ((n = read(out_, buf, sizeof buf)) > 0) stdout_.append(buf, static_cast<size_t>(n));
    while ((n = read(err_, buf, sizeof buf)) > 0) stderr_.append(buf, static_cast<size_t>(n));
  }
  bool Exited() {
    if (pid_ <= 0) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid_ = -1;
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  int status_ = -1;
  std::string stdout_, stderr_;
};

// A port nothing listens on right now.
int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

std::vector<std::string> PceServe(int port, const std::string& state_db) {
  return {kEonops,
          "pce",
          "serve",
          "--config",
          kSource + "/configs/pce.json",
          "--port",
          std::to_string(port),
          "--state-db",
          state_db,
          "--no-decision-log"};
}

TEST(OneOwnerTest, ASecondPceOnTheSamePortExitsNamingThePort) {
  TempDir dir;
  const int port = FreePort();
  Process first(PceServe(port, dir / "a.db"));
  ASSERT_TRUE(first.WaitFor("serving TAPI on")) << first.out() << first.err();
  Process second(PceServe(port, dir / "b.db"));
  EXPECT_NE(second.Wait(), 0) << second.out();
  EXPECT_NE(second.err().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << second.err();
  EXPECT_NE(second.err().find("in use"), std::string::npos) << second.err();
  EXPECT_EQ(second.out().find("serving TAPI"), std::string::npos) << "it must not serve";
}

TEST(OneOwnerTest, ASecondPceOnTheSameStateDatabaseExitsNamingTheHolder) {
  TempDir dir;
  Process first(PceServe(FreePort(), dir / "state.db"));
  ASSERT_TRUE(first.WaitFor("serving TAPI on")) << first.out() << first.err();
  Process second(PceServe(FreePort(), dir / "state.db"));
  EXPECT_NE(second.Wait(), 0) << second.out();
  EXPECT_NE(second.err().find("in use by another PCE (pid " + std::to_string(first.pid()) + ","),
            std::string::npos)
      << second.err();
  EXPECT_EQ(second.out().find("serving TAPI"), std::string::npos);
  // The lock goes with its holder, even killed: a new PCE then takes the file over.
  kill(first.pid(), SIGKILL);
  first.Wait();
  Process third(PceServe(FreePort(), dir / "state.db"));
  EXPECT_TRUE(third.WaitFor("serving TAPI on")) << third.out() << third.err();
}

TEST(OneOwnerTest, ASecondTrackingServerOnTheSamePortExitsNamingThePort) {
  TempDir dir;
  const int port = FreePort();
  auto serve = [&](const std::string& db) {
    return std::vector<std::string>{
        kEonops,  "tracking",          "serve", "--db", dir / db, "--artifacts", dir / "artifacts",
        "--port", std::to_string(port)};
  };
  Process first(serve("a.db"));
  ASSERT_TRUE(first.WaitFor("serving http://")) << first.out() << first.err();
  Process second(serve("b.db"));
  EXPECT_NE(second.Wait(), 0) << second.out();
  EXPECT_NE(second.err().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << second.err();
  EXPECT_NE(second.err().find("in use"), std::string::npos) << second.err();
}

TEST(OneOwnerTest, SimulateRefusesAConfigThatIsNotAScenario) {
  Process p({kEonops, "simulate", "--config", kSource + "/configs/modulations-deeprmsa.json"});
  EXPECT_EQ(p.Wait(), 1) << p.out();
  EXPECT_NE(p.err().find("modulations-deeprmsa.json"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("not a scenario"), std::string::npos) << p.err();
  EXPECT_EQ(p.out().find("blocking"), std::string::npos) << "no results on defaults";
}

// An installed layout, <prefix>/bin/eonops and <prefix>/share/eonops/configs, run from another
// directory without $EONOPS_CONFIGS: pce serve finds its default config (and what it names)
// beside the executable, not where it was built.
TEST(OneOwnerTest, AnInstalledPceFindsItsDefaultConfigBesideTheExecutable) {
  TempDir prefix, elsewhere;
  fs::create_directories(prefix / "bin");
  fs::create_directories(prefix / "share/eonops");
  fs::copy_file(kEonops, prefix / "bin/eonops");
  fs::permissions(prefix / "bin/eonops", fs::perms::owner_exec, fs::perm_options::add);
  fs::copy(kSource + "/configs", prefix / "share/eonops/configs", fs::copy_options::recursive);
  Process p({prefix / "bin/eonops", "pce", "serve", "--port", "0", "--state-db",
             ":memory:", "--no-decision-log"},
            elsewhere.path());
  ASSERT_TRUE(p.WaitFor("serving TAPI on")) << p.out() << p.err();
  EXPECT_NE(p.out().find("NSFNET"), std::string::npos) << p.out();
  // ... and serves the default policy that config names, from the installed copy.
  ASSERT_TRUE(p.WaitFor("policy deeprmsa")) << p.out() << p.err();
  EXPECT_NE(p.out().find("default:deeprmsa-nsfnet-es-linear-k50/0"), std::string::npos) << p.out();
  EXPECT_NE(p.out().find(prefix / "share/eonops/configs/policies/deeprmsa-nsfnet-es-linear-k50"),
            std::string::npos)
      << p.out();
  Process help({prefix / "bin/eonops", "pce", "serve", "--help"}, elsewhere.path());
  help.Wait();
  EXPECT_NE(help.out().find(prefix / "share/eonops/configs/pce.json"), std::string::npos)
      << help.out();
}

// `lifecycle register --policy-dir` puts a policy directory's files in a run of their own and
// registers them as a version; the default PCE then serves that version instead of its default
// policy. Bad input (no manifest, both kinds, neither) exits 2 with the reason.
TEST(RegisterTest, APolicyDirectoryBecomesTheChampionThePceServes) {
  TempDir dir;
  const std::string policy = kSource + "/configs/policies/deeprmsa-nsfnet-es-linear-k50";
  auto reg = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {kEonops,         "lifecycle", "register", "--tracking-db", dir / "t.db",
                                  "--artifacts", dir / "art", "--model", "deeprmsa-nsfnet"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  Process ok(reg({"--policy-dir", policy, "--alias", "champion"}));
  ASSERT_EQ(ok.Wait(), 0) << ok.err();
  EXPECT_NE(ok.out().find("deeprmsa-nsfnet/1  runs:/"), std::string::npos) << ok.out();
  EXPECT_NE(ok.out().find("@champion"), std::string::npos) << ok.out();

  Process none(reg({"--policy-dir", dir / "nothing-here"}));
  EXPECT_EQ(none.Wait(), 2);
  EXPECT_NE(none.err().find("--policy-dir"), std::string::npos) << none.err();
  Process both(reg({"--policy-dir", policy, "--heuristic", "ksp-ff"}));
  EXPECT_EQ(both.Wait(), 2);
  Process neither(reg({}));
  EXPECT_EQ(neither.Wait(), 2);

  Process pce({kEonops, "pce", "serve", "--port", "0", "--state-db", ":memory:", "--no-decision-log",
               "--tracking-db", dir / "t.db", "--artifacts", dir / "art"});
  ASSERT_TRUE(pce.WaitFor("policy deeprmsa")) << pce.out() << pce.err();
  EXPECT_NE(pce.out().find("policy deeprmsa: deeprmsa-nsfnet/1 <- deeprmsa-nsfnet@champion"), std::string::npos)
      << pce.out();
}

}  // namespace
}  // namespace eonops
