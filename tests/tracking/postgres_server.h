// A real PostgreSQL server for the tracking tests, from Debian's `postgresql` package: a new
// cluster in a temporary directory (initdb), started with pg_ctl on a free loopback port and
// stopped at the end. initdb refuses to run as root, so as root the cluster belongs to the
// unprivileged `postgres` user (created by the package; `nobody` otherwise) and the commands
// run through `runuser`.
//
// Under ctest one server serves the whole suite: the `tracking_postgres_start` fixture starts
// it and writes its address to $EONOPS_TEST_POSTGRES, `tracking_postgres_stop` stops it. A test
// binary run on its own starts a server of its own on first use (and stops it at exit). Each
// test gets its own database (TestDatabase), so tests can run in parallel.
//
//   if (!PostgresForTests()) GTEST_SKIP() << PostgresMissingMessage();
//   TestDatabase db(Backend::kPostgres, dir.path());
//   StoreOptions o = db.Options();  // postgresql://eonops@127.0.0.1:PORT/eonops_tests?options=...
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "tracking/store.h"

namespace eonops::tracking::testing {

// The directory holding initdb and pg_ctl ($EONOPS_PG_BIN, else the newest
// /usr/lib/postgresql/*/bin); empty when PostgreSQL is not installed.
std::string PostgresBinDir();

class PostgresServer {
 public:
  // How much the cluster may trade durability for speed.
  enum class Durability {
    kNone,        // fsync off: tests, which throw the cluster away
    kLikeSqlite,  // fsync on, synchronous_commit off: a crash of the OS may lose the last
                  // commits but never corrupts, as the SQLite store's WAL + synchronous=NORMAL
  };
  // Starts a fresh cluster; throws std::runtime_error with the command's log on failure.
  static std::unique_ptr<PostgresServer> Start(Durability durability = Durability::kNone);
  // Adopts a server described by the file that `Detach` wrote (nullptr if it does not answer).
  static std::unique_ptr<PostgresServer> Adopt(const std::string& state_file);
  // Stops (immediate mode) and removes the cluster, unless detached.
  ~PostgresServer();

  int port() const { return port_; }
  // postgresql://eonops@127.0.0.1:PORT/<database>
  std::string Url(const std::string& database) const;
  // Writes the address and directory to `state_file` and leaves the server running.
  void Detach(const std::string& state_file);
  // Stops the server described by `state_file` and removes its directory and the file.
  static void StopDetached(const std::string& state_file);

 private:
  PostgresServer(std::string dir, int port, bool owned) : dir_(dir), port_(port), owned_(owned) {}
  std::string dir_;
  int port_;
  bool owned_;
};

// The server the tests share (ctest's fixture, or one started for this process); nullptr
// when PostgreSQL is not installed.
PostgresServer* PostgresForTests();
std::string PostgresMissingMessage();

enum class Backend { kSqlite, kPostgres };

// How gtest (and so ctest's test list) prints the parameter.
inline void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}


// One fresh, empty database for one test: a SQLite file in `dir`, or a new schema in the
// shared PostgreSQL server's test database (search_path set in the URL), dropped when this goes
// out of scope. Artifacts go to `dir`.
class TestDatabase {
 public:
  TestDatabase(Backend backend, const std::string& dir);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Backend backend() const { return backend_; }
  const std::string& location() const { return location_; }
  StoreOptions Options() const;

 private:
  Backend backend_;
  std::string location_;
  std::string artifacts_;
  std::string pg_schema_;  // empty for SQLite
};

// In a test body or SetUp(): skips the PostgreSQL half, visibly, when it is not installed
// (GoogleTest's GTEST_SKIP; the harness itself does not need GoogleTest, the benchmarks use it).
#define EONOPS_SKIP_UNLESS_BACKEND(backend)                                                     \
  do {                                                                                          \
    if ((backend) == ::eonops::tracking::testing::Backend::kPostgres &&                         \
        !::eonops::tracking::testing::PostgresForTests())                                       \
      GTEST_SKIP() << ::eonops::tracking::testing::PostgresMissingMessage();                    \
  } while (0)

}  // namespace eonops::tracking::testing
