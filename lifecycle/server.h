// The lifecycle service's own small HTTP interface (loopback by default):
//
//   GET  /health                         {"status": "ok"}
//   GET  /status                         champion/challenger per use case, attempt and its step,
//                                        the watch, the last drift figures, the latest decisions
//   POST /retrain  {"use_case": "..."}   start a retraining attempt now (202; 409 when one runs);
//                  {"use_case": "...", "heuristic": "ksp-bf"}: that heuristic as the challenger
//
// With a token file (same format as `eonops tracking serve`), POST needs "Authorization: Bearer
// <token>" (401 without, 403 with a wrong one). Errors are {"error": {"code", "message"}}.
//
//   LifecycleServer server(service, {"127.0.0.1", 8090, ""});
//   int port = server.Start();  ...  server.Stop();
#pragma once

#include <memory>
#include <string>

#include "lifecycle/service.h"

namespace eonops::lifecycle {

struct LifecycleServerOptions {
  std::string host = "127.0.0.1";
  int port = 8090;  // 0: any free port
  std::string token_file;
};

class LifecycleServer {
 public:
  LifecycleServer(LifecycleService& service, LifecycleServerOptions options);
  ~LifecycleServer();
  LifecycleServer(const LifecycleServer&) = delete;
  LifecycleServer& operator=(const LifecycleServer&) = delete;

  int Start();  // throws std::runtime_error when the address cannot be bound
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::lifecycle
