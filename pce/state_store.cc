#include "pce/state_store.h"

#include <stdexcept>

#include "tracking/sqlite_db.h"

namespace eonops::pce {

namespace {

constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services (
  uuid TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  request TEXT NOT NULL,
  decision TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS computed_paths (
  uuid TEXT PRIMARY KEY,
  service_uuid TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  request TEXT NOT NULL,
  decision TEXT NOT NULL);
)sql";

}  // namespace

StateStore::StateStore(const std::string& path, Durability durability,
                       const nlohmann::json& network)
    : path_(path) {
  try {
    db_ = std::make_unique<tracking::SqliteConnection>(path, tracking::ConnectionOptions{});
    if (durability == Durability::kFull) db_->Exec("PRAGMA synchronous=FULL");
    tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
      db_->Exec(kSchema);
      auto get = db_->Prepare("SELECT value FROM meta WHERE key = ?");
      get.Bind(1, "network");
      const std::string mine = network.dump();
      if (get.Step()) {
        const std::string theirs = get.Text(0);
        if (theirs != mine) {
          throw std::runtime_error(
              "state database " + path + " belongs to another network: " + theirs +
              " (this PCE: " + mine + "); use another --state-db or remove the file");
        }
      } else {
        db_->Prepare("INSERT INTO meta(key, value) VALUES('network', ?)").Bind(1, mine).Run();
        db_->Prepare("INSERT INTO meta(key, value) VALUES('schema_version', ?)")
            .Bind(1, std::to_string(kSchemaVersion))
            .Run();
      }
    });
  } catch (const tracking::DbError& e) {
    throw std::runtime_error("state database " + path + ": " + e.what());
  }
}

StateStore::~StateStore() = default;

void StateStore::PutService(const Service& s) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
    db_->Prepare(
           "INSERT OR REPLACE INTO services(uuid, seq, created_ms, name, request, decision) "
           "VALUES(?, ?, ?, ?, ?, ?)")
        .Bind(1, s.uuid)
        .Bind(2, s.seq)
        .Bind(3, s.created_ms)
        .Bind(4, s.name.dump())
        .Bind(5, s.request.ToJson().dump())
        .Bind(6, s.decision.ToJson().dump())
        .Run();
  });
}

void StateStore::DeleteService(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
    db_->Prepare("DELETE FROM services WHERE uuid = ?").Bind(1, uuid).Run();
  });
}

std::vector<Service> StateStore::LoadServices() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tracking::RunTransaction(*db_, tracking::TxMode::kRead, [&] {
    std::vector<Service> out;
    auto st = db_->Prepare(
        "SELECT uuid, seq, created_ms, name, request, decision FROM services ORDER BY seq");
    while (st.Step()) {
      Service s;
      s.uuid = st.Text(0);
      s.seq = st.Int64(1);
      s.created_ms = st.Int64(2);
      try {
        s.name = nlohmann::json::parse(st.Text(3));
        s.request = PathRequest::FromJson(nlohmann::json::parse(st.Text(4)));
        s.decision = PathDecision::FromJson(nlohmann::json::parse(st.Text(5)));
      } catch (const std::exception& e) {
        throw std::runtime_error("state database " + path_ + ": service " + s.uuid +
                                 " is corrupt: " + e.what());
      }
      out.push_back(std::move(s));
    }
    return out;
  });
}

void StateStore::PutPath(const ComputedPath& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
    db_->Prepare(
           "INSERT OR REPLACE INTO computed_paths(uuid, service_uuid, seq, created_ms, name, "
           "request, decision) "
           "VALUES(?, ?, ?, ?, ?, ?, ?)")
        .Bind(1, p.uuid)
        .Bind(2, p.service_uuid)
        .Bind(3, p.seq)
        .Bind(4, p.created_ms)
        .Bind(5, p.name.dump())
        .Bind(6, p.request.ToJson().dump())
        .Bind(7, p.decision.ToJson().dump())
        .Run();
  });
}

void StateStore::DeletePath(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(mutex_);
  tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
    db_->Prepare("DELETE FROM computed_paths WHERE uuid = ?").Bind(1, uuid).Run();
  });
}

std::vector<ComputedPath> StateStore::LoadPaths() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tracking::RunTransaction(*db_, tracking::TxMode::kRead, [&] {
    std::vector<ComputedPath> out;
    auto st = db_->Prepare(
        "SELECT uuid, service_uuid, seq, created_ms, name, request, decision FROM computed_paths "
        "ORDER BY seq");
    while (st.Step()) {
      ComputedPath p;
      p.uuid = st.Text(0);
      p.service_uuid = st.Text(1);
      p.seq = st.Int64(2);
      p.created_ms = st.Int64(3);
      try {
        p.name = nlohmann::json::parse(st.Text(4));
        p.request = PathRequest::FromJson(nlohmann::json::parse(st.Text(5)));
        p.decision = PathDecision::FromJson(nlohmann::json::parse(st.Text(6)));
      } catch (const std::exception& e) {
        throw std::runtime_error("state database " + path_ + ": path " + p.uuid +
                                 " is corrupt: " + e.what());
      }
      out.push_back(std::move(p));
    }
    return out;
  });
}

}  // namespace eonops::pce
