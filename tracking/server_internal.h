// Pieces of the server shared by server.cc (MLflow API) and server_ui_api.cc (eonops extras).
// Not part of the public API.
#pragma once

#include <httplib.h>

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "tracking/mlflow_json.h"
#include "tracking/store.h"

namespace eonops::tracking::server_internal {

// What a handler sees of one request.
struct Context {
  const httplib::Request& req;
  httplib::Response& res;
  RequestArgs args;   // JSON body for POST/PUT/DELETE (query string when the body is empty)
  std::string actor;  // who is asking: the token's user, X-Eonops-User, or "anonymous"
  bool raw = false;   // the handler wrote res itself (files); no JSON body to add
};

using Handler = std::function<Json(Context&)>;

struct Route {
  bool write = false;  // needs the bearer token when auth is on
  Handler handler;
};

// "METHOD path" -> route, for exact paths.
using RouteTable = std::map<std::string, Route>;

// Timestamps the UI reports when it has drawn a page (?mark=1), for the render benchmark.
class UiMarks {
 public:
  void Add(const std::string& name);
  Json ToJson();

 private:
  std::mutex mutex_;
  std::deque<std::pair<std::string, int64_t>> marks_;  // (name, server time in ms)
};

struct LoadPoint {
  double load = 0;
  std::string heuristic;  // empty: the run's own policy
};
// Parses the blocking-vs-load metric names: `blocking@load=250`, `blocking@load=250/ksp-ff`,
// `blocking_vs_load/250[/ksp-ff]`.
std::optional<LoadPoint> ParseBlockingAtLoad(const std::string& key);

// The /api/eonops/ routes.
void AddUiApiRoutes(RouteTable& routes, TrackingStore& store, UiMarks& marks);

// Serialises for a response; invalid UTF-8 in stored strings is replaced, never a throw.
std::string Dump(const Json& j);

}  // namespace eonops::tracking::server_internal
