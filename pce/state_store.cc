#include "pce/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tracking/sqlite_db.h"

namespace eonops::pce {

namespace {

// 2: `reverse` on services and computed paths (the Z->A lightpath of a bidirectional request).
constexpr int kSchemaVersion = 2;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services (
  uuid TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  request TEXT NOT NULL,
  decision TEXT NOT NULL,
  reverse TEXT);
CREATE TABLE IF NOT EXISTS computed_paths (
  uuid TEXT PRIMARY KEY,
  service_uuid TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  request TEXT NOT NULL,
  decision TEXT NOT NULL,
  reverse TEXT);
)sql";

// Schema 1 files gain the column; their rows are one-way services (reverse NULL).
const char* kMigrateFrom1 = R"sql(
ALTER TABLE services ADD COLUMN reverse TEXT;
ALTER TABLE computed_paths ADD COLUMN reverse TEXT;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

std::string PidOf(int fd) {
  char buf[32] = {0};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

StateLock::StateLock(const std::string& db_path) : path_(db_path + ".lock") {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("state database " + db_path + ": cannot open lock file " + path_ +
                             ": " + std::strerror(errno));
  }
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = PidOf(fd_);
    close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw std::runtime_error("state database " + db_path + " is in use by another PCE (pid " +
                               holder + ", lock " + path_ +
                               "); stop it or give this one another --state-db");
    }
    throw std::runtime_error("state database " + db_path + ": cannot lock " + path_ + ": " +
                             std::strerror(err));
  }
  // The kernel drops the lock when this process ends, however it ends (SIGKILL included); the
  // pid is only there to name the holder.
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; a second PCE then names "unknown".
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock; the file stays (removing it would race)
}

StateStore::StateStore(const std::string& path, Durability durability,
                       const nlohmann::json& network)
    : path_(path), lock_(path) {
  try {
    db_ = std::make_unique<tracking::SqliteConnection>(path, tracking::ConnectionOptions{});
    if (durability == Durability::kFull) db_->Exec("PRAGMA synchronous=FULL");
    tracking::RunTransaction(*db_, tracking::TxMode::kWrite, [&] {
      db_->Exec(kSchema);
      auto version = db_->Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
      if (version.Step()) {
        const std::string v = version.Text(0);
        version.Reset();
        if (v == "1") {
          db_->Exec(kMigrateFrom1);
        } else if (v != std::to_string(kSchemaVersion)) {
          throw std::runtime_error("state database " + path + " has schema version " + v +
                                   ", this PCE knows 1.." + std::to_string(kSchemaVersion));
        }
      }
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
           "INSERT OR REPLACE INTO services(uuid, seq, created_ms, name, request, decision, "
           "reverse) VALUES(?, ?, ?, ?, ?, ?, ?)")
        .Bind(1, s.uuid)
        .Bind(2, s.seq)
        .Bind(3, s.created_ms)
        .Bind(4, s.name.dump())
        .Bind(5, s.request.ToJson().dump())
        .Bind(6, s.decision.ToJson().dump())
        .Bind(7, s.reverse ? std::optional<std::string>(s.reverse->ToJson().dump()) : std::nullopt)
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
        "SELECT uuid, seq, created_ms, name, request, decision, reverse FROM services ORDER BY "
        "seq");
    while (st.Step()) {
      Service s;
      s.uuid = st.Text(0);
      s.seq = st.Int64(1);
      s.created_ms = st.Int64(2);
      try {
        s.name = nlohmann::json::parse(st.Text(3));
        s.request = PathRequest::FromJson(nlohmann::json::parse(st.Text(4)));
        s.decision = PathDecision::FromJson(nlohmann::json::parse(st.Text(5)));
        if (!st.IsNull(6)) s.reverse = PathDecision::FromJson(nlohmann::json::parse(st.Text(6)));
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
           "request, decision, reverse) "
           "VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(1, p.uuid)
        .Bind(2, p.service_uuid)
        .Bind(3, p.seq)
        .Bind(4, p.created_ms)
        .Bind(5, p.name.dump())
        .Bind(6, p.request.ToJson().dump())
        .Bind(7, p.decision.ToJson().dump())
        .Bind(8, p.reverse ? std::optional<std::string>(nlohmann::json{
                                 {"uuid", p.reverse_uuid},
                                 {"decision",
                                  p.reverse->ToJson()}}.dump())
                           : std::nullopt)
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
        "SELECT uuid, service_uuid, seq, created_ms, name, request, decision, reverse FROM "
        "computed_paths ORDER BY seq");
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
        if (!st.IsNull(7)) {
          const nlohmann::json back = nlohmann::json::parse(st.Text(7));
          p.reverse_uuid = back.at("uuid").get<std::string>();
          p.reverse = PathDecision::FromJson(back.at("decision"));
        }
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
