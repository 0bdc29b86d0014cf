// The web UI's files (tracking/web/), compiled into the binary by tracking/embed_web.cmake so
// that `eonops tracking serve` needs nothing on disk besides the database.
//
//   const WebAsset* a = FindWebAsset("index.html");
//   if (a) res.set_content(reinterpret_cast<const char*>(a->data), a->size, "text/html");
#pragma once

#include <cstddef>
#include <string_view>

namespace eonops::tracking {

struct WebAsset {
  const char* path;  // relative to tracking/web, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};

// All assets (defined in the generated web_assets.cc).
const WebAsset* WebAssets(size_t* count);

inline const WebAsset* FindWebAsset(std::string_view path) {
  size_t n = 0;
  const WebAsset* all = WebAssets(&n);
  for (size_t i = 0; i < n; ++i)
    if (path == all[i].path) return &all[i];
  return nullptr;
}

}  // namespace eonops::tracking
