// Where a served policy comes from: an exported artifact directory, or a registered model
// version that an alias (`champion`) points at in the tracking server's registry.
//
//   tracking::TrackingHttpClient client("http://tracking:5000");
//   ModelRef ref = ParseModelRef("rmsa-nsfnet@champion");        // "@champion" is the default
//   FetchedPolicy p = FetchRegisteredPolicy(client, ref, "/var/cache/eonops");
//   // p.dir: the version's artifact directory, copied to <cache>/<name>/<version>/
//   // p.info: {name, version, run_id, source}
//
// RegistryWatcher re-resolves the alias every poll interval and hands a newly pointed-at
// version to a callback (the policy server's Load), so promoting a new champion needs no restart.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "proto/rpc.h"
#include "tracking/http_client.h"

namespace eonops::proto {

struct ModelRef {
  std::string name;
  std::string alias = "champion";
  int64_t version = 0;  // "NAME@v3" / "NAME/3": a fixed version instead of an alias
};

// "NAME", "NAME@alias", "NAME@v3" or "NAME/3"; throws std::invalid_argument.
ModelRef ParseModelRef(const std::string& text);

struct FetchedPolicy {
  std::string dir;  // artifact directory (manifest.json, weights)
  ServedModelInfo info;
};

// Resolves `ref` and copies the version's files (a run's artifact directory; a local directory
// source is used in place). A version already in the cache is reused when its manifest.json is
// there. Throws tracking::TrackingError (registry) or std::runtime_error (source, files).
FetchedPolicy FetchRegisteredPolicy(tracking::TrackingHttpClient& client, const ModelRef& ref,
                                    const std::string& cache_dir);

// Which version `ref` names now (one registry call).
int64_t ResolveModelVersion(tracking::TrackingHttpClient& client, const ModelRef& ref);

class RegistryWatcher {
 public:
  using OnChange = std::function<void(const FetchedPolicy&)>;
  // `current_version`: what is served already (0: none). Errors while polling (registry down,
  // bad artifact) are passed to `on_error` and retried at the next poll; the old policy stays.
  RegistryWatcher(std::string tracking_url, ModelRef ref, std::string cache_dir,
                  std::chrono::milliseconds poll, int64_t current_version, OnChange on_change,
                  std::function<void(const std::string&)> on_error = nullptr);
  ~RegistryWatcher();  // stops the thread
  RegistryWatcher(const RegistryWatcher&) = delete;
  RegistryWatcher& operator=(const RegistryWatcher&) = delete;

 private:
  void Loop();

  std::string url_;
  ModelRef ref_;
  std::string cache_dir_;
  std::chrono::milliseconds poll_;
  int64_t version_;
  OnChange on_change_;
  std::function<void(const std::string&)> on_error_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eonops::proto
