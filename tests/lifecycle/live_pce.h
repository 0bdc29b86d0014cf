// The live side of the lifecycle tests: a PCE serving a tracking store's registry behind its
// TAPI server on an ephemeral loopback port, and the lifecycle service's timeline captured.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pce/pce.h"
#include "tapi/server.h"
#include "tracking/store.h"

namespace eonops::lifecycle::testing {

class LivePce {
 public:
  LivePce(const pce::PceConfig& config, tracking::TrackingStore& store,
          const std::string& scratch_dir) {
    pce::PceSetup ps;
    ps.tracking = pce::StoreConnector(&store);
    ps.scratch_dir = scratch_dir;
    pce_ = std::make_unique<pce::Pce>(config, ps);
    tapi::TapiServerOptions to = tapi::TapiServerOptions::FromConfig(config);
    to.port = 0;
    to.threads = 4;
    server_ = std::make_unique<tapi::TapiServer>(*pce_, to);
    url_ = "http://127.0.0.1:" + std::to_string(server_->Start());
  }
  ~LivePce() { server_->Stop(); }
  pce::Pce& pce() { return *pce_; }
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<pce::Pce> pce_;
  std::unique_ptr<tapi::TapiServer> server_;
  std::string url_;
};

// The lines the service logs (LifecycleSetup::log), from any thread.
class Timeline {
 public:
  std::function<void(const std::string&)> Sink() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> l(mutex_);
      lines_.push_back(line);
    };
  }
  bool Has(const std::string& a, const std::string& b = "") const {
    std::lock_guard<std::mutex> l(mutex_);
    return std::any_of(lines_.begin(), lines_.end(), [&](const std::string& s) {
      return s.find(a) != std::string::npos && s.find(b) != std::string::npos;
    });
  }
  std::string Dump() const {
    std::lock_guard<std::mutex> l(mutex_);
    std::string out;
    for (const auto& s : lines_) out += "  | " + s + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace eonops::lifecycle::testing
