#include "tools/tracking_flags.h"

namespace eonops::tools {

void AddTrackingFlags(ArgParser& p) {
  p.Add("tracking", "URL", "tracking server (registry, runs), e.g. http://127.0.0.1:5000");
  p.Add("tracking-token", "TOKEN", "bearer token for the tracking server's writes");
  p.Add("tracking-db", "FILE", "or: an in-process tracking store (SQLite file)");
  p.Add("artifacts", "DIR", "artifact root of --tracking-db", "./artifacts");
}

pce::TrackingConnector TrackingFromFlags(const ArgParser& p, const std::string& user,
                                         std::unique_ptr<tracking::TrackingStore>* store,
                                         std::string* description) {
  if (p.Has("tracking") && p.Has("tracking-db"))
    throw UsageError("give --tracking or --tracking-db, not both");
  *description = "none";
  if (p.Has("tracking-db")) {
    tracking::StoreOptions o;
    o.db_path = p.Get("tracking-db");
    o.artifact_root = p.Get("artifacts");
    *store = std::make_unique<tracking::TrackingStore>(o);
    *description = o.db_path;
    return pce::StoreConnector(store->get(), user);
  }
  if (!p.Has("tracking")) return {};
  tracking::HttpClientOptions ho;
  if (p.Has("tracking-token")) ho.token = p.Get("tracking-token");
  ho.user = user;
  ho.timeout_seconds = 10;
  ho.max_retries = 2;
  *description = p.Get("tracking");
  return pce::HttpConnector(p.Get("tracking"), ho);
}

}  // namespace eonops::tools
