#include "tests/tracking/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tracking/postgres_db.h"

namespace eonops::tracking::testing {
namespace fs = std::filesystem;
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The unprivileged account a root test run hands the cluster to.
const passwd* ClusterOwner() {
  if (::geteuid() != 0) return nullptr;
  const passwd* pw = ::getpwnam("postgres");
  return pw ? pw : ::getpwnam("nobody");
}

// Runs `argv` (through runuser as the cluster owner when root), stdout and stderr appended to
// `log`; returns the exit status.
int RunCommand(std::vector<std::string> argv, const std::string& log, const std::string& cwd) {
  if (const passwd* owner = ClusterOwner()) {
    argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", owner->pw_name, "--"});
  }
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only the log is inherited: the server that pg_ctl leaves running must not hold a pipe
    // of ours (ctest would wait for it to close).
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// The database the tests' schemas live in: a schema is made in milliseconds, a database in
// half a second.
constexpr char kTestDatabase[] = "eonops_tests";

std::string UrlFor(int port, const std::string& database) {
  return "postgresql://eonops@127.0.0.1:" + std::to_string(port) + "/" + database;
}

bool Answers(int port) { return PQping(UrlFor(port, "postgres").c_str()) == PQPING_OK; }

void StopCluster(const std::string& dir) {
  const std::string bin = PostgresBinDir();
  if (!bin.empty() && fs::exists(dir + "/data/postmaster.pid"))
    RunCommand({bin + "/pg_ctl", "-D", dir + "/data", "-m", "immediate", "-w", "stop"},
               dir + "/commands.log", dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

std::string PostgresBinDir() {
  if (const char* env = std::getenv("EONOPS_PG_BIN"); env && *env) return env;
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb") && fs::exists(e.path() / "bin" / "pg_ctl"))
      found.push_back((e.path() / "bin").string());
  // The newest major version (directory names are numbers).
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return found.empty() ? "" : found.back();
}

std::unique_ptr<PostgresServer> PostgresServer::Start(Durability durability) {
  const std::string bin = PostgresBinDir();
  if (bin.empty()) throw std::runtime_error(PostgresMissingMessage());
  std::string dir = (fs::temp_directory_path() / "eonops-pg-XXXXXX").string();
  if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
  if (const passwd* owner = ClusterOwner()) {
    if (::chown(dir.c_str(), owner->pw_uid, owner->pw_gid) != 0)
      throw std::runtime_error("cannot hand " + dir + " to " + owner->pw_name);
  }
  ::chmod(dir.c_str(), 0700);
  const std::string log = dir + "/commands.log";
  // Trust on loopback and a byte-order locale: a throwaway cluster for tests only.
  if (RunCommand({bin + "/initdb", "-D", dir + "/data", "-U", "eonops", "-A", "trust", "-E",
                  "UTF8", "--locale=C", "--no-sync"},
                 log, dir) != 0) {
    std::string out = ReadFile(log);
    fs::remove_all(dir);
    throw std::runtime_error("initdb failed:\n" + out);
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = FreeLoopbackPort();
    // Tests turn durability off (fsync, full pages): they need speed, not crash safety; the
    // isolation and locking behaviour is the real server's.
    const std::string options =
        "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port) +
        " -c unix_socket_directories=" + dir + " -c synchronous_commit=off" +
        (durability == Durability::kNone ? " -c fsync=off -c full_page_writes=off" : "") +
        " -c max_connections=300 -c shared_buffers=" +
        (durability == Durability::kNone ? "32MB" : "256MB");
    if (RunCommand({bin + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/server.log", "-w", "-t",
                    "60", "-o", options, "start"},
                   log, dir) == 0 &&
        Answers(port)) {
      std::unique_ptr<PostgresServer> server(new PostgresServer(dir, port, true));
      PostgresConnection admin(UrlFor(port, "postgres"), {});
      admin.Exec("CREATE DATABASE " + std::string(kTestDatabase));
      return server;
    }
  }
  std::string out = ReadFile(log) + ReadFile(dir + "/server.log");
  StopCluster(dir);
  throw std::runtime_error("pg_ctl start failed:\n" + out);
}

std::unique_ptr<PostgresServer> PostgresServer::Adopt(const std::string& state_file) {
  std::ifstream in(state_file);
  int port = 0;
  std::string dir;
  if (!(in >> port >> dir) || !Answers(port)) return nullptr;
  return std::unique_ptr<PostgresServer>(new PostgresServer(dir, port, false));
}

PostgresServer::~PostgresServer() {
  if (owned_) StopCluster(dir_);
}

std::string PostgresServer::Url(const std::string& database) const {
  return UrlFor(port_, database);
}

void PostgresServer::Detach(const std::string& state_file) {
  std::ofstream(state_file) << port_ << " " << dir_ << "\n";
  owned_ = false;
}

void PostgresServer::StopDetached(const std::string& state_file) {
  std::ifstream in(state_file);
  int port = 0;
  std::string dir;
  if (in >> port >> dir && dir.rfind((fs::temp_directory_path() / "eonops-pg-").string(), 0) == 0)
    StopCluster(dir);
  std::error_code ec;
  fs::remove(state_file, ec);
}

std::string PostgresMissingMessage() {
  return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the PostgreSQL "
         "half of the tracking tests is SKIPPED; `apt-get install postgresql` "
         "(tools/install-deps.sh does) to run it";
}

PostgresServer* PostgresForTests() {
  static std::mutex mutex;
  static std::unique_ptr<PostgresServer> server;
  static std::string failure;
  static bool looked = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!looked) {
    looked = true;
    const char* state = std::getenv("EONOPS_TEST_POSTGRES");
    if (state && *state && ReadFile(state).rfind("absent", 0) == 0) return nullptr;
    if (state && *state) server = PostgresServer::Adopt(state);
    if (!server && !PostgresBinDir().empty()) {
      try {
        server = PostgresServer::Start();
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
  }
  // Installed but not starting is a failure, not a skip.
  if (!failure.empty()) throw std::runtime_error("cannot start PostgreSQL: " + failure);
  return server.get();
}

TestDatabase::TestDatabase(Backend backend, const std::string& dir)
    : backend_(backend), artifacts_(dir + "/artifacts") {
  if (backend == Backend::kSqlite) {
    location_ = dir + "/tracking.db";
    return;
  }
  PostgresServer* server = PostgresForTests();
  if (!server) throw std::runtime_error(PostgresMissingMessage());
  static std::atomic<int> counter{0};
  std::random_device rd;
  pg_schema_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
               std::to_string(rd() % 100000);
  PostgresConnection admin(server->Url(kTestDatabase), {});
  admin.Exec("CREATE SCHEMA " + pg_schema_);
  // libpq's `options` (percent-encoded '='): the store's tables go into the test's own schema.
  location_ = server->Url(kTestDatabase) + "?options=-csearch_path%3D" + pg_schema_;
}

TestDatabase::~TestDatabase() {
  if (pg_schema_.empty()) return;
  try {
    PostgresConnection admin(PostgresForTests()->Url(kTestDatabase), {});
    admin.Exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
  } catch (const std::exception&) {
    // The cluster is thrown away at the end anyway.
  }
}

StoreOptions TestDatabase::Options() const {
  StoreOptions o;
  o.db_path = location_;
  o.artifact_root = artifacts_;
  return o;
}

}  // namespace eonops::tracking::testing
