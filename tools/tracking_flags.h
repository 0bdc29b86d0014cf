// The flags of the services that use the tracking store (`pce serve`, `lifecycle serve|register`):
// a tracking server (--tracking URL, --tracking-token) or an in-process SQLite store
// (--tracking-db FILE, --artifacts DIR).
//
//   AddTrackingFlags(p);
//   std::unique_ptr<tracking::TrackingStore> store;   // kept alive for --tracking-db
//   std::string desc;
//   pce::TrackingConnector connect = TrackingFromFlags(p, "eonops-pce", &store, &desc);
#pragma once

#include <memory>
#include <string>

#include "pce/tracking_backend.h"
#include "tools/args.h"
#include "tracking/store.h"

namespace eonops::tools {

void AddTrackingFlags(ArgParser& p);
// An empty connector (and `description` "none") when neither flag is given; UsageError for
// both. `user` is who the registry records as moving aliases and making decisions.
pce::TrackingConnector TrackingFromFlags(const ArgParser& p, const std::string& user,
                                         std::unique_ptr<tracking::TrackingStore>* store,
                                         std::string* description);

}  // namespace eonops::tools
