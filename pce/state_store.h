// The PCE's durable state in SQLite: provisioned services with their spectrum, and computed
// paths. Every change is one transaction written before the in-memory state changes (write
// ahead), so after a crash (SIGKILL included) and restart the PCE re-lights exactly the
// services that were acknowledged, on the same slots.
//
// The file also records the network configuration it belongs to; opening it with another
// network throws, naming both, rather than re-lighting services on the wrong fibres.
//
//   StateStore db("pce-state.db", Durability::kNormal, network_options.ToJson());
//   db.PutService(service);                      // before acknowledging it
//   for (const Service& s : db.LoadServices()) ...
//
// Durability::kNormal (WAL, synchronous=NORMAL) survives a process crash; kFull also a power
// loss, at the cost of an fsync per operation.
//
// One owner: a StateStore holds an exclusive lock (flock on "<path>.lock", which records its
// pid) for its whole life; a second one on the same file throws naming the holder's pid. The
// kernel releases the lock when the process ends, SIGKILL included, so no stale lock remains.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pce/config.h"
#include "pce/request.h"

namespace eonops::tracking {
class Connection;
}

namespace eonops::pce {

// An exclusive flock on "<db_path>.lock" holding this process's pid; throws when another
// process holds it, naming that pid.
class StateLock {
 public:
  explicit StateLock(const std::string& db_path);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

class StateStore {
 public:
  // Opens or creates `path`. Throws std::runtime_error naming the file when it cannot be opened
  // or belongs to another network.
  StateStore(const std::string& path, Durability durability, const nlohmann::json& network);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  void PutService(const Service& s);
  void DeleteService(const std::string& uuid);
  std::vector<Service> LoadServices();  // in creation order

  void PutPath(const ComputedPath& p);
  void DeletePath(const std::string& uuid);
  std::vector<ComputedPath> LoadPaths();  // in creation order

 private:
  std::string path_;
  StateLock lock_;  // taken before the database is opened
  std::mutex mutex_;
  std::unique_ptr<tracking::Connection> db_;
};

}  // namespace eonops::pce
