// The PCE's live network view for an operations-centre wall: a page (tapi/web/, embedded into
// the binary) and the read-only JSON it polls.
//
//   GET /ui                   the page; /ui/<file> its assets (app.js, style.css)
//   GET /ui/api/snapshot      everything the page draws, with an ETag; If-None-Match -> 304
//   GET /ui/api/version       {"version": N}: N grows by one whenever the snapshot changes
//
// The snapshot holds the topology with node coordinates, every provisioned service (route,
// band, slot, width, modulation, GSNR margin, latency, deciding policy version, fallback), the
// per-fibre per-band occupancy as runs [slot, width, service index] rebuilt from the services,
// the latest decisions (provisioned services and computed paths, newest first, fallbacks
// marked) and running figures (decisions and blocking so far from the PCE's metrics,
// utilisation per band from the spectrum itself, network power). Every answer, errors included,
// is JSON except the page and its assets; nothing here changes the PCE.
//
//   LiveView view(pce);
//   if (view.Serve(http_request, http_response)) return;   // a /ui path was answered
//   nlohmann::json s = view.Snapshot();                     // tests
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pce/pce.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace eonops::tapi {

class LiveView {
 public:
  static constexpr int kMaxDecisions = 60;

  explicit LiveView(pce::Pce& pce) : pce_(pce) {}

  struct Reply {
    int status = 200;
    std::string content_type;
    std::string body;
    std::map<std::string, std::string> headers;
  };
  // Answers a /ui path; nullopt for any other path (the caller routes it on).
  std::optional<Reply> Handle(const std::string& method, const std::string& path, const std::string& if_none_match = "");
  // The same over cpp-httplib; false when the path is not ours.
  bool Serve(const httplib::Request& request, httplib::Response& response);

  // The current snapshot (builds it; "version" is the change counter at that moment).
  nlohmann::json Snapshot();
  int64_t version();

 private:
  struct Cached {
    uint64_t fingerprint = 0;
    int64_t version = 0;
    std::string body, etag;
  };
  // Rebuilds the cached snapshot when the PCE changed since the last call.
  Cached Current();

  pce::Pce& pce_;
  std::mutex mutex_;
  Cached cached_;
  bool have_cached_ = false;
};

// The page's files (tapi/web/), compiled in by tapi/embed_web.cmake (generated live_view_assets.cc).
struct LiveViewAsset {
  const char* path;  // relative to tapi/web, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};
const LiveViewAsset* LiveViewAssets(size_t* count);

// The occupancy runs of a snapshot expanded back to bits: [fibre][band][slot] -> service index
// (-1 free). For tests and tools that compare the view with Pce::Occupancy().
std::vector<std::vector<std::vector<int>>> ExpandOccupancy(const nlohmann::json& snapshot);

}  // namespace eonops::tapi
