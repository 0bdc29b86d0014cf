// Runs Debian's headless Chromium for the web UI test and the render benchmark, with the flags
// build-notes.md asks for (no sandbox as root, no background networking on this network).
//
//   if (!ChromiumAvailable()) GTEST_SKIP();
//   ChromiumResult r = DumpDom("http://127.0.0.1:5000/#/models", 5000);
//   Screenshot("http://127.0.0.1:5000/#/compare?runs=a,b", "/tmp/compare.png");
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace eonops::tracking::testing {

inline constexpr const char* kChromium = "/usr/bin/chromium";

inline bool ChromiumAvailable() { return ::access(kChromium, X_OK) == 0; }

struct ChromiumResult {
  int exit_code = -1;
  std::string out;  // stdout (the DOM for --dump-dom)
  double wall_ms = 0;
};

// Runs chromium with `extra` arguments plus the standard flags, killing it after timeout_s.
inline ChromiumResult RunChromium(const std::vector<std::string>& extra, int timeout_s = 90) {
  std::string profile =
      (std::filesystem::temp_directory_path() / "eonops-chromium-XXXXXX").string();
  if (!mkdtemp(profile.data())) return {};
  std::vector<std::string> args = {kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile};
  args.insert(args.end(), extra.begin(), extra.end());
  int pipefd[2];
  if (pipe(pipefd) != 0) return {};
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(kChromium, argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  ChromiumResult result;
  // Read on this thread; a watchdog kills chromium (its whole process group is not ours to
  // signal, so only the pid we started) if it hangs past the timeout.
  bool done = false;
  std::thread watchdog([&] {
    for (int i = 0; i < timeout_s * 10 && !__atomic_load_n(&done, __ATOMIC_SEQ_CST); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) kill(pid, SIGKILL);
  });
  char buf[65536];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) result.out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  __atomic_store_n(&done, true, __ATOMIC_SEQ_CST);
  watchdog.join();
  result.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::error_code ec;
  std::filesystem::remove_all(profile, ec);
  return result;
}

inline ChromiumResult DumpDom(const std::string& url, int virtual_time_budget_ms = 5000) {
  const std::vector<std::string> args = {"--virtual-time-budget=" + std::to_string(virtual_time_budget_ms),
                                         "--window-size=1400,900", "--dump-dom", url};
  ChromiumResult r = RunChromium(args);
  // Headless Chromium now and then hangs before loading anything on a loaded machine (seen once
  // in an ASan suite run: killed after 90 s with no output). A page of ours that hangs or fails
  // does so again; a browser that hung once gets one more try with a fresh profile.
  if (r.exit_code == -1 && r.out.empty()) r = RunChromium(args);
  return r;
}

inline ChromiumResult Screenshot(const std::string& url, const std::string& png,
                                 int virtual_time_budget_ms = 5000) {
  return RunChromium({"--virtual-time-budget=" + std::to_string(virtual_time_budget_ms),
                      "--window-size=1400,900", "--screenshot=" + png, url});
}

}  // namespace eonops::tracking::testing
