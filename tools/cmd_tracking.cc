// `eonops tracking`: the tracking server and a few store commands for operators.
//
//   eonops tracking serve --db eonops.db --artifacts ./artifacts --port 5000 [--token-file F]
//   eonops tracking serve --db postgresql://eonops@db:5432/tracking --artifacts /shared/artifacts
//   eonops tracking migrate --from eonops.db --to postgresql://eonops@db:5432/tracking
//   eonops tracking check --db eonops.db
//   eonops tracking runs --db eonops.db --experiment rmsa/nsfnet --filter "metrics.blocking < 0.1"
//   eonops tracking models --db eonops.db [--model rmsa-nsfnet]
//   eonops tracking alias --db eonops.db --model rmsa-nsfnet --alias champion --version 3
#include <pthread.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/args.h"
#include "tools/commands.h"
#include "tracking/copy.h"
#include "tracking/db.h"
#include "tracking/errors.h"
#include "tracking/mlflow_json.h"
#include "tracking/server.h"
#include "tracking/store.h"

namespace eonops::tools {
namespace {

using tracking::TrackingStore;

void AddStoreFlags(ArgParser& p) {
  p.Add("db", "FILE|URL",
        "the tracking store: a SQLite file, or postgresql://USER[:PASS]@HOST[:PORT]/DB",
        "eonops.db");
  p.Add("artifacts", "DIR", "artifact root (content-addressed files)", "./artifacts");
}

tracking::StoreOptions StoreFlags(const ArgParser& p) {
  tracking::StoreOptions o;
  o.db_path = p.Get("db");
  o.artifact_root = p.Get("artifacts");
  return o;
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" ||
         host.compare(0, 4, "127.") == 0;
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

std::string Number(double v) {
  std::ostringstream s;
  s << std::setprecision(6) << v;
  return s.str();
}

int Serve(int argc, char** argv) {
  ArgParser p("eonops tracking serve",
              "Serve the MLflow-compatible tracking API, the model registry and the web UI.");
  AddStoreFlags(p);
  p.Add("host", "ADDR", "address to bind (loopback unless told otherwise)", "127.0.0.1");
  p.Add("port", "N", "TCP port (0: any free port)", "5000");
  p.Add("token-file", "FILE", "bearer tokens for write endpoints, one '[user] token' per line");
  p.Add("threads", "N", "HTTP worker threads", "8");
  p.AddSwitch("access-log", "log every request (method, path, status, ms) to stderr");
  if (!p.Parse(argc, argv)) return 0;
  tracking::ServerOptions so;
  so.host = p.Get("host");
  long long port = p.GetInt("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be within 0..65535");
  so.port = static_cast<int>(port);
  so.token_file = p.Has("token-file") ? p.Get("token-file") : "";
  long long threads = p.GetInt("threads");
  if (threads < 1 || threads > 256) throw UsageError("--threads must be within 1..256");
  so.threads = static_cast<int>(threads);
  so.access_log = p.Switch("access-log");
  if (!IsLoopback(so.host) && so.token_file.empty())
    std::cerr << "eonops tracking: warning: listening on " << so.host
              << " without --token-file: anyone who can reach it can write\n";

  // Block SIGINT/SIGTERM before the server starts its threads, so that they are delivered to
  // the sigwait below and the server shuts down cleanly (no signal-handler games).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  TrackingStore store(StoreFlags(p));
  tracking::TrackingServer server(store, so);
  int bound = server.Start();
  std::cout << "eonops tracking: serving http://" << so.host << ":" << bound << "/ (db "
            << tracking::RedactedLocation(store.options().db_path) << ", artifacts " << store.options().artifact_root
            << (so.token_file.empty() ? "" : ", writes need a bearer token") << ")" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "eonops tracking: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  server.Stop();
  return 0;
}

int Check(int argc, char** argv) {
  ArgParser p("eonops tracking check",
              "Open the store (applying migrations) and run the database's integrity check.");
  AddStoreFlags(p);
  if (!p.Parse(argc, argv)) return 0;
  TrackingStore store(StoreFlags(p));
  std::string result = store.IntegrityCheck();
  std::cout << "schema version " << store.SchemaVersion() << "\nintegrity_check: " << result
            << "\n";
  return result == "ok" ? 0 : 1;
}

int Runs(int argc, char** argv) {
  ArgParser p("eonops tracking runs", "List the runs of an experiment with params and metrics.");
  AddStoreFlags(p);
  p.Add("experiment", "NAME|ID", "experiment name or id", "0");
  p.Add("filter", "EXPR", "MLflow filter, e.g. \"metrics.blocking < 0.1 AND params.algo = 'ppo'\"");
  p.Add("order-by", "EXPR", "e.g. \"metrics.reward DESC\"");
  p.Add("max", "N", "at most this many runs", "50");
  p.AddSwitch("json", "print MLflow JSON instead of a table");
  if (!p.Parse(argc, argv)) return 0;
  TrackingStore store(StoreFlags(p));
  std::string exp = p.Get("experiment");
  if (auto byname = store.GetExperimentByName(exp)) exp = byname->experiment_id;
  tracking::SearchRunsRequest r;
  r.experiment_ids = {exp};
  r.filter = p.Has("filter") ? p.Get("filter") : "";
  if (p.Has("order-by")) r.order_by = {p.Get("order-by")};
  r.max_results = p.GetInt("max");
  auto page = store.SearchRuns(r);
  if (p.Switch("json")) {
    tracking::Json list = tracking::Json::array();
    for (const auto& run : page.items) list.push_back(tracking::ToJson(run));
    std::cout << tracking::Json{{"runs", list}}.dump(2) << "\n";
    return 0;
  }
  for (const auto& run : page.items) {
    std::cout << run.info.run_id << "  " << std::left << std::setw(24) << run.info.run_name << " "
              << std::setw(9) << tracking::RunStatusName(run.info.status) << " "
              << Time(run.info.start_time_ms) << "\n";
    for (const auto& prm : run.data.params)
      std::cout << "    param  " << prm.key << " = " << prm.value << "\n";
    for (const auto& m : run.data.metrics)
      std::cout << "    metric " << m.key << " = " << Number(m.value) << " (step " << m.step
                << ")\n";
  }
  if (!page.next_page_token.empty()) std::cout << "(more runs: raise --max)\n";
  return 0;
}

int Models(int argc, char** argv) {
  ArgParser p("eonops tracking models",
              "List registered models, or one model's versions, aliases and alias history.");
  AddStoreFlags(p);
  p.Add("model", "NAME", "show this model in detail");
  if (!p.Parse(argc, argv)) return 0;
  TrackingStore store(StoreFlags(p));
  if (!p.Has("model")) {
    tracking::SearchModelsRequest r;
    r.max_results = 1000;
    for (const auto& m : store.SearchRegisteredModels(r).items) {
      std::cout << m.name;
      for (const auto& a : m.aliases) std::cout << "  @" << a.alias << "=v" << a.version;
      std::cout << "\n";
    }
    return 0;
  }
  const std::string name = p.Get("model");
  tracking::SearchModelsRequest r;
  r.filter = "name = '" + [&] {
    std::string q;
    for (char c : name) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q;
  }() + "'";
  r.max_results = 1000;
  for (const auto& v : store.SearchModelVersions(r).items) {
    std::cout << "v" << v.version << "  " << std::left << std::setw(10)
              << tracking::StageName(v.current_stage) << " " << v.source;
    for (const auto& a : v.aliases) std::cout << "  @" << a;
    std::cout << "\n";
  }
  std::cout << "alias history:\n";
  for (const auto& e : store.GetAliasHistory(name)) {
    std::cout << "  " << Time(e.changed_at_ms) << "  @" << e.alias << "  "
              << (e.from_version ? "v" + std::to_string(*e.from_version) : "(new)") << " -> "
              << (e.to_version ? "v" + std::to_string(*e.to_version) : "(deleted)") << "  by "
              << (e.changed_by.empty() ? "?" : e.changed_by) << "\n";
  }
  return 0;
}

int Alias(int argc, char** argv) {
  ArgParser p("eonops tracking alias",
              "Point a model alias (e.g. champion) at a version; the move is recorded.");
  AddStoreFlags(p);
  p.Add("model", "NAME", "registered model");
  p.Add("alias", "NAME", "alias, e.g. champion");
  p.Add("version", "N", "model version (omit with --delete)");
  p.Add("user", "NAME", "who is moving it (recorded)",
        std::getenv("USER") ? std::getenv("USER") : "cli");
  p.AddSwitch("delete", "remove the alias instead");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.Has("model") || !p.Has("alias")) throw UsageError("--model and --alias are required");
  TrackingStore store(StoreFlags(p));
  if (p.Switch("delete")) {
    store.DeleteAlias(p.Get("model"), p.Get("alias"), p.Get("user"));
  } else {
    if (!p.Has("version")) throw UsageError("--version is required (or --delete)");
    store.SetAlias(p.Get("model"), p.Get("alias"), p.GetInt("version"), p.Get("user"));
  }
  return 0;
}

int Migrate(int argc, char** argv) {
  ArgParser p("eonops tracking migrate",
              "Copy a whole tracking store (runs, metrics, episodes, registry, audit trail) into a "
              "new, empty database, e.g. from a SQLite file to PostgreSQL, and verify the counts.");
  p.Add("from", "FILE|URL", "the store to copy (SQLite file or postgresql:// URL)");
  p.Add("to", "FILE|URL", "the new store (must hold no data yet)");
  p.Add("artifacts", "DIR",
        "artifact root both stores use: also check that every artifact the runs list is there");
  if (!p.Parse(argc, argv)) return 0;
  if (!p.Has("from") || !p.Has("to")) throw UsageError("--from and --to are required");
  if (p.Get("from") == p.Get("to")) throw UsageError("--from and --to name the same database");
  auto from = tracking::OpenDatabase(p.Get("from"), {});
  auto to = tracking::OpenDatabase(p.Get("to"), {});
  std::cout << "copying " << from->name() << " -> " << to->name() << "\n";
  tracking::CopyReport report = tracking::CopyDatabase(*from, *to);
  std::cout << std::left << std::setw(24) << "table" << std::right << std::setw(12) << "source"
            << std::setw(14) << "destination" << "\n";
  for (const auto& t : report.tables)
    std::cout << std::left << std::setw(24) << t.table << std::right << std::setw(12)
              << t.source_rows << std::setw(14) << t.destination_rows
              << (t.source_rows == t.destination_rows ? "" : "   MISMATCH") << "\n";
  int rc = report.verified ? 0 : 1;
  if (p.Has("artifacts")) {
    const int64_t missing = tracking::CountMissingArtifactBlobs(*to, p.Get("artifacts"));
    std::cout << "artifact files missing from " << p.Get("artifacts") << ": " << missing << "\n";
    if (missing > 0) rc = 1;
  }
  std::cout << (report.verified ? "verified: every table has as many rows in both stores\n"
                                : "NOT verified: row counts differ\n");
  return rc;
}

const char kUsage[] =
    "usage: eonops tracking <serve|check|runs|models|alias|migrate> [flags]\n"
    "  serve   the MLflow-compatible REST API, model registry and web UI\n"
    "  check   apply migrations and run the integrity check\n"
    "  migrate copy a store into a new database (e.g. SQLite to PostgreSQL), verified\n"
    "  runs    list an experiment's runs\n"
    "  models  list registered models, or one model's versions and alias history\n"
    "  alias   move (or delete) a model alias\n";

}  // namespace

int RunTracking(int argc, char** argv) {
  try {
    return RunSubcommand(argc, argv, kUsage,
                         {{"serve", Serve},
                          {"check", Check},
                          {"runs", Runs},
                          {"models", Models},
                          {"alias", Alias},
                          {"migrate", Migrate}});
  } catch (const tracking::TrackingError& e) {
    std::cerr << "eonops tracking " << argv[0] << ": " << tracking::ErrorCodeName(e.code())
              << ": " << e.what() << "\n";
    return 1;
  } catch (const tracking::DbError& e) {
    std::cerr << "eonops tracking " << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace eonops::tools
