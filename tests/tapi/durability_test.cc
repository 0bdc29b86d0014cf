// Durability: a PCE server in a forked child is killed with SIGKILL and restarted on the same
// state database; it comes back with exactly the services and spectrum occupancy it had, and
// every service it acknowledged before the kill (also while requests were in flight) is there.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "tests/tapi/tapi_test_util.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using testing::kConnectivity;
using testing::kContext;
using testing::Reply;
using testing::ServiceBody;
using testing::TempDir;

// A PCE + TAPI server in a child process; the parent talks to it over loopback only.
class ChildServer {
 public:
  explicit ChildServer(const std::string& state_db) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      close(fds[0]);
      Serve(state_db, fds[1]);  // never returns
    }
    close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 60000) != 1 || read(fds[0], &port_, sizeof(port_)) != sizeof(port_) ||
        port_ <= 0) {
      close(fds[0]);
      Kill();
      throw std::runtime_error("the child server did not start");
    }
    close(fds[0]);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(10, 0);
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true);
  }
  ~ChildServer() { Kill(); }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  Reply Get(const std::string& path) { return testing::ToReply(client_->Get(path.c_str())); }
  Reply Post(const std::string& path, const Json& body) {
    return testing::ToReply(client_->Post(path.c_str(), body.dump(), "application/yang-data+json"));
  }
  Reply Delete(const std::string& path) { return testing::ToReply(client_->Delete(path.c_str())); }

 private:
  [[noreturn]] static void Serve(const std::string& state_db, int fd) {
    try {
      pce::PceSetup setup;
      setup.state_db = state_db;
      pce::PceConfig config = pce::testing::SmallConfig();
      pce::Pce engine(config, setup);
      TapiServerOptions o = TapiServerOptions::FromConfig(config);
      o.port = 0;
      TapiServer server(engine, o);
      const int port = server.Start();
      if (write(fd, &port, sizeof(port)) != sizeof(port)) _exit(3);
      close(fd);
      for (;;) pause();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child server: %s\n", e.what());
    }
    _exit(2);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

std::string SipOf(const Json& context, int node) {
  return context["tapi-common:context"]["service-interface-point"][node]["uuid"];
}

TEST(DurabilityTest, SigkillAndRestartKeepExactlyTheServicesAndOccupancy) {
  TempDir dir;
  const std::string db = dir / "state.db";
  Json before_services, before_topology, before_sips;
  {
    ChildServer child(db);
    Reply ctx = child.Get(kContext);
    ASSERT_EQ(ctx.status, 200);
    std::vector<std::string> created;
    for (int i = 0; i < 40; ++i) {
      const int a = i % 14, z = (a + 1 + i % 6) % 14;
      Reply r = child.Post(kConnectivity,
                           ServiceBody(SipOf(ctx.body, a), SipOf(ctx.body, z), 25 + (i * 13) % 76));
      ASSERT_TRUE(r.status == 201 || r.status == 409) << r.text;
      if (r.status == 201) created.push_back(r.location);
    }
    ASSERT_GT(created.size(), 20u);
    for (size_t i = 0; i < created.size(); i += 4) ASSERT_EQ(child.Delete(created[i]).status, 204);
    Reply path = child.Post(testing::kCompute,
                            testing::ComputeInput21(SipOf(ctx.body, 2), SipOf(ctx.body, 9), 100));
    ASSERT_EQ(path.status, 200);
    Reply after_ops = child.Get(kContext);
    before_services =
        after_ops.body["tapi-common:context"]["tapi-connectivity:connectivity-context"];
    before_topology = after_ops.body["tapi-common:context"]["tapi-topology:topology-context"];
    before_sips = after_ops.body["tapi-common:context"]["service-interface-point"];
    ASSERT_EQ(testing::CheckOccupancyAgainstServices(after_ops.body), "");
    child.Kill();  // SIGKILL: no destructor, no flush, no goodbye
  }
  ChildServer child(db);
  Reply ctx = child.Get(kContext);
  ASSERT_EQ(ctx.status, 200);
  EXPECT_EQ(ctx.body["tapi-common:context"]["tapi-connectivity:connectivity-context"],
            before_services);
  EXPECT_EQ(ctx.body["tapi-common:context"]["tapi-topology:topology-context"], before_topology)
      << "every fibre's occupancy (mc-pool) is the same";
  EXPECT_EQ(ctx.body["tapi-common:context"]["service-interface-point"], before_sips);
  EXPECT_EQ(
      ctx.body["tapi-common:context"]["tapi-path-computation:path-computation-context"]["path"]
          .size(),
      1u);
  // And it keeps working on that state without double-booking.
  for (int i = 0; i < 10; ++i) {
    Reply r = child.Post(kConnectivity,
                         ServiceBody(SipOf(ctx.body, i), SipOf(ctx.body, (i + 5) % 14), 100));
    ASSERT_TRUE(r.status == 201 || r.status == 409) << r.text;
  }
  EXPECT_EQ(testing::CheckOccupancyAgainstServices(child.Get(kContext).body), "");
}

// What clients saw of a server killed under load: the services it acknowledged (201) and did
// not delete since, and every uuid that may exist (asked for and not surely deleted).
struct KilledUnderLoad {
  std::set<std::string> acknowledged, attempted;
};

// `threads` clients create services on a PCE child (body_of(context, t, i, uuid) is the i-th
// body of thread t) and delete the one before every `delete_every`-th, until the child is
// SIGKILLed after 400 ms.
KilledUnderLoad CreateAndDeleteUntilKilled(
    const std::string& db, int threads, int delete_every,
    const std::function<Json(const Json&, int, int, const std::string&)>& body_of) {
  KilledUnderLoad seen;
  std::mutex mu;
  ChildServer child(db);
  const Json ctx = child.Get(kContext).body;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", child.port());
      c.set_keep_alive(true);
      c.set_read_timeout(5, 0);
      auto uuid_of = [t](int i) { return "t" + std::to_string(t) + "-" + std::to_string(i); };
      for (int i = 0; !stop; ++i) {
        {
          std::lock_guard<std::mutex> lock(mu);
          seen.attempted.insert(uuid_of(i));
        }
        auto r = c.Post(kConnectivity, body_of(ctx, t, i, uuid_of(i)).dump(),
                        "application/yang-data+json");
        if (!r) break;  // the server is gone
        if (r->status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          seen.acknowledged.insert(uuid_of(i));
        }
        if (i % delete_every != delete_every - 1) continue;
        // Delete our previous service if it was created; while the DELETE is in flight it may
        // or may not survive a kill, so it leaves the acknowledged set first.
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!seen.acknowledged.erase(uuid_of(i - 1))) continue;
        }
        auto d = c.Delete(
            (std::string(kConnectivity) + "/connectivity-service=" + uuid_of(i - 1)).c_str());
        if (!d) break;
        if (d->status == 204) {
          std::lock_guard<std::mutex> lock(mu);
          seen.attempted.erase(uuid_of(i - 1));  // gone for sure
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  child.Kill();
  stop = true;
  for (auto& t : pool) t.join();
  return seen;
}

// The restarted server has every acknowledged service and nothing that was never asked for.
Json ExpectRestored(const KilledUnderLoad& seen, ChildServer& child) {
  Reply ctx = child.Get(kContext);
  EXPECT_EQ(ctx.status, 200);
  std::set<std::string> restored;
  for (const auto& s : ctx.body["tapi-common:context"]["tapi-connectivity:connectivity-context"]
                               ["connectivity-service"]) {
    restored.insert(s["uuid"].get<std::string>());
  }
  for (const auto& u : seen.acknowledged)
    EXPECT_TRUE(restored.count(u)) << "acknowledged service " << u << " was lost";
  for (const auto& u : restored)
    EXPECT_TRUE(seen.attempted.count(u)) << "service " << u << " came from nowhere";
  EXPECT_EQ(testing::CheckOccupancyAgainstServices(ctx.body), "");
  return ctx.body;
}

TEST(DurabilityTest, ServicesAcknowledgedBeforeAKillDuringLoadSurvive) {
  TempDir dir;
  const std::string db = dir / "state.db";
  KilledUnderLoad seen = CreateAndDeleteUntilKilled(
      db, 6, 3, [](const Json& ctx, int t, int i, const std::string& uuid) {
        const int a = (t + i) % 14, z = (a + 1 + i % 5) % 14;
        return ServiceBody(SipOf(ctx, a), SipOf(ctx, z), 25 + i % 50, uuid);
      });
  ASSERT_GT(seen.acknowledged.size(), 10u);
  ChildServer child(db);
  ExpectRestored(seen, child);
}

// Bidirectional services are one SQLite row each: a kill while they are created and deleted
// leaves, after the restart, every acknowledged service with both its lightpaths and never a
// direction without the other (CheckOccupancyAgainstServices counts both).
TEST(DurabilityTest, BidirectionalServicesComeBackWholeAfterAKill) {
  TempDir dir;
  const std::string db = dir / "state.db";
  KilledUnderLoad seen = CreateAndDeleteUntilKilled(
      db, 4, 2, [](const Json& ctx, int t, int i, const std::string& uuid) {
        const int a = (t * 3 + i) % 14, z = (a + 2 + i % 7) % 14;
        return ServiceBody(SipOf(ctx, a), SipOf(ctx, z), 25 + i % 75, uuid, true);
      });
  ASSERT_GT(seen.acknowledged.size(), 5u);
  ChildServer child(db);
  const Json ctx = ExpectRestored(seen, child);
  for (const auto& s : ctx["tapi-common:context"]["tapi-connectivity:connectivity-context"]
                          ["connectivity-service"]) {
    EXPECT_EQ(s["direction"], "BIDIRECTIONAL");
    ASSERT_TRUE(s.contains("eonops-pce:reverse-lightpath")) << s.dump();
    EXPECT_EQ(s["eonops-pce:lightpath"]["spectrum"], s["eonops-pce:reverse-lightpath"]["spectrum"]);
  }
}

}  // namespace
}  // namespace eonops::tapi
