// TrackingServer: the MLflow REST API 2.0, artifact up/download, the eonops extras the web UI
// needs, and the web UI itself, all served from one TrackingStore.
//
// Routes (each also under /ajax-api/2.0/mlflow/ and /api/2.0/preview/mlflow/, as MLflow has):
//   /api/2.0/mlflow/experiments/{create,get,get-by-name,search,delete,restore,update,
//                                set-experiment-tag}
//   /api/2.0/mlflow/runs/{create,get,update,delete,restore,search,log-metric,log-parameter,
//                         log-batch,set-tag,delete-tag}
//   /api/2.0/mlflow/metrics/get-history, /api/2.0/mlflow/artifacts/list
//   /api/2.0/mlflow/registered-models/{create,get,search,get-latest-versions,alias}
//   /api/2.0/mlflow/model-versions/{create,get,search,transition-stage,get-download-uri}
//   /get-artifact?run_id=&path=                       download (MLflow's UI route)
//   /api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/<path>   GET / PUT (proxied store)
//   /api/eonops/...                                    episodes, downsampled histories, compare,
//                                                      alias/stage history (see server_ui_api.cc)
//   /  and /static/...                                 the web UI (tracking/web, embedded)
// Success is HTTP 200 with a JSON object; errors are {"error_code", "message"} with MLflow's
// statuses. With a token file, every write needs `Authorization: Bearer <token>`; reads stay
// open. The default bind address is loopback.
//
//   TrackingStore store(store_options);
//   ServerOptions so;
//   so.port = 0;                      // any free port
//   TrackingServer server(store, so);
//   int port = server.Start();        // serves on background threads
//   ...
//   server.Stop();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tracking/store.h"

namespace eonops::tracking {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 5000;  // 0: an ephemeral port (see TrackingServer::port())
  // One token per line, optionally preceded by a user name: "alice 3f9c..."; '#' starts a
  // comment. Empty: no authentication.
  std::string token_file;
  int threads = 8;
  size_t max_body_bytes = size_t{512} << 20;  // artifacts come through PUT bodies
  bool access_log = false;  // one line per request on stderr: method, path, status, ms
};

// A bearer token and who holds it (recorded as the actor of alias and stage moves).
struct ApiToken {
  std::string user;
  std::string token;
};

// Parses a token file; throws TrackingError naming the file and line on a malformed one.
std::vector<ApiToken> LoadTokenFile(const std::string& path);

class TrackingServer {
 public:
  TrackingServer(TrackingStore& store, ServerOptions options);
  ~TrackingServer();
  TrackingServer(const TrackingServer&) = delete;
  TrackingServer& operator=(const TrackingServer&) = delete;

  // Binds and serves on a background thread; returns the bound port. Throws TrackingError when
  // the address cannot be bound or the token file cannot be read.
  int Start();
  // Binds and serves on the calling thread until Stop() is called from another thread.
  void Run();
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::tracking
