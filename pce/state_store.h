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
  std::mutex mutex_;
  std::unique_ptr<tracking::Connection> db_;
};

}  // namespace eonops::pce
