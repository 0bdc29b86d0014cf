// Concurrency: thousands of create/delete requests from many clients at once never double-book
// a slot; afterwards the occupancy matches the service list exactly.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "tests/tapi/tapi_test_util.h"
#include "tracking/sqlite_db.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using testing::kConnectivity;
using testing::kContext;
using testing::Server;
using testing::ServiceBody;
using testing::TempDir;

TEST(ConcurrencyTest, ThousandsOfConcurrentCreatesAndDeletesKeepTheOccupancyInvariant) {
  TempDir dir;
  pce::PceSetup setup;
  setup.state_db = dir / "state.db";
  Server s(pce::testing::SmallConfig(), setup);
  std::vector<std::string> sips;
  for (int n = 0; n < 14; ++n) sips.push_back(s.pce().ted().SipUuid(n));
  constexpr int kThreads = 16, kOps = 200;
  std::atomic<int64_t> created{0}, refused{0}, deleted{0}, missing{0}, unexpected{0};
  std::mutex shared_mutex;
  std::vector<std::string> shared;  // services any thread may delete
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = s.NewClient();
      std::mt19937 rng(1000 + t);
      for (int i = 0; i < kOps; ++i) {
        const int a = rng() % 14, z = (a + 1 + rng() % 13) % 14;
        const std::string uuid = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto r =
            client->Post(kConnectivity, ServiceBody(sips[a], sips[z], 25 + rng() % 76, uuid).dump(),
                         "application/yang-data+json");
        if (!r) {
          ++unexpected;
          ADD_FAILURE() << "POST " << uuid << ": " << httplib::to_string(r.error());
          continue;
        }
        if (r->status == 201) {
          ++created;
          std::lock_guard<std::mutex> lock(shared_mutex);
          shared.push_back(uuid);
        } else if (r->status == 409) {
          ++refused;
        } else {
          ++unexpected;
          ADD_FAILURE() << r->status << " " << r->body;
        }
        if (rng() % 2) {
          std::string victim;
          {
            std::lock_guard<std::mutex> lock(shared_mutex);
            if (shared.empty()) continue;
            const size_t k = rng() % shared.size();
            victim = shared[k];
            // Half the time leave it in the pool, so two clients race to delete it.
            if (rng() % 2) {
              shared[k] = shared.back();
              shared.pop_back();
            }
          }
          auto d = client->Delete(
              (std::string(kConnectivity) + "/connectivity-service=" + victim).c_str());
          if (!d) {
            ++unexpected;
            ADD_FAILURE() << "DELETE " << victim << ": " << httplib::to_string(d.error());
          } else if (d->status == 204) {
            ++deleted;
          } else if (d->status == 404) {
            ++missing;  // someone else deleted it first
          } else {
            ++unexpected;
            ADD_FAILURE() << d->status << " " << d->body;
          }
        }
      }
    });
  }
  // A reader sees one consistent picture while the storm goes on: every snapshot's occupancy
  // is exactly its own services' spectrum.
  std::atomic<bool> writers_done{false};
  std::atomic<int> snapshots{0};
  std::thread reader([&] {
    auto client = s.NewClient();
    while (!writers_done) {
      testing::Reply r = testing::ToReply(client->Get(kContext));
      ASSERT_EQ(r.status, 200);
      ASSERT_EQ(testing::CheckOccupancyAgainstServices(r.body), "")
          << "snapshot " << snapshots.load();
      ++snapshots;
    }
  });
  for (auto& t : threads) t.join();
  writers_done = true;
  reader.join();
  EXPECT_GE(snapshots.load(), 1);
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(created.load(), 500);
  EXPECT_GT(deleted.load(), 500);
  EXPECT_GT(refused.load() + missing.load(), 0) << "the load should reach blocking and races";
  EXPECT_EQ(s.pce().CheckInvariants(), "");
  EXPECT_EQ(int64_t(s.pce().ListServices().size()), created.load() - deleted.load());
  testing::Reply ctx = s.Get(kContext);
  ASSERT_EQ(ctx.status, 200);
  EXPECT_EQ(testing::CheckOccupancyAgainstServices(ctx.body), "");
  EXPECT_EQ(int64_t(ctx.body["tapi-common:context"]["tapi-connectivity:connectivity-context"]
                            ["connectivity-service"]
                                .size()),
            created.load() - deleted.load());
  // What is in SQLite is what is in memory. The PCE owns the file (a second StateStore would be
  // refused), but anyone may read it.
  auto live = s.pce().ListServices();
  EXPECT_THROW(pce::StateStore(setup.state_db, pce::Durability::kNormal,
                               s.pce().model().options().ToJson()),
               std::runtime_error);
  tracking::SqliteConnection db(setup.state_db, tracking::ConnectionOptions{});
  std::vector<std::string> stored;
  auto st = db.Prepare("SELECT uuid FROM services ORDER BY seq");
  while (st.Step()) stored.push_back(st.Text(0));
  ASSERT_EQ(stored.size(), live.size());
  for (size_t i = 0; i < live.size(); ++i) EXPECT_EQ(stored[i], live[i].uuid);
}

}  // namespace
}  // namespace eonops::tapi
