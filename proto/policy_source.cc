#include "proto/policy_source.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include "proto/rpc_internal.h"
#include "tracking/entities.h"
#include "tracking/model_source.h"

namespace eonops::proto {

namespace fs = std::filesystem;

namespace {

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}


void CopyTree(tracking::TrackingHttpClient& client, const std::string& run_id,
              const std::string& path, const fs::path& root, const std::string& base, int depth) {
  if (depth > 16)
    throw std::runtime_error("artifact tree of run " + run_id + " is deeper than 16 levels");
  for (const tracking::ArtifactFile& f : client.ListArtifacts(run_id, path)) {
    const std::string rel = StartsWith(f.path, base) ? TrimSlashes(f.path.substr(base.size())) : "";
    if (rel.empty() || rel.find("..") != std::string::npos) {
      throw std::runtime_error("artifact path '" + f.path + "' of run " + run_id +
                               " is not below '" + base + "'");
    }
    if (f.is_dir) {
      fs::create_directories(root / rel);
      CopyTree(client, run_id, f.path, root, base, depth + 1);
      continue;
    }
    fs::create_directories((root / rel).parent_path());
    const std::string bytes = client.ReadArtifact(run_id, f.path);
    std::ofstream out(root / rel, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (root / rel).string());
  }
}

std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : name)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return out;
}

tracking::ModelVersion Resolve(tracking::TrackingHttpClient& client, const ModelRef& ref) {
  if (ref.version > 0) return client.GetModelVersion(ref.name, ref.version);
  return client.GetModelVersionByAlias(ref.name, ref.alias);
}

}  // namespace

ModelRef ParseModelRef(const std::string& text) {
  ModelRef ref;
  const size_t at = text.find('@'), slash = text.rfind('/');
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument("model '" + text + "': " + why +
                                " (expected NAME, NAME@alias, NAME@v3 or NAME/3)");
  };
  auto parse_version = [&](const std::string& digits) {
    if (digits.empty() || digits.size() > 15 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      fail("bad version");
    }
    ref.version = std::stoll(digits);
    if (ref.version <= 0) fail("versions start at 1");
  };
  if (at != std::string::npos) {
    ref.name = text.substr(0, at);
    const std::string alias = text.substr(at + 1);
    if (alias.empty()) fail("empty alias");
    if (alias.size() > 1 && alias[0] == 'v' &&
        alias.find_first_not_of("0123456789", 1) == std::string::npos) {
      parse_version(alias.substr(1));
    } else {
      ref.alias = alias;
    }
  } else if (slash != std::string::npos && slash + 1 < text.size() &&
             text.find_first_not_of("0123456789", slash + 1) == std::string::npos) {
    ref.name = text.substr(0, slash);
    parse_version(text.substr(slash + 1));
  } else {
    ref.name = text;
  }
  if (ref.name.empty()) fail("empty name");
  return ref;
}

int64_t ResolveModelVersion(tracking::TrackingHttpClient& client, const ModelRef& ref) {
  return ref.version > 0 ? ref.version : client.GetModelVersionByAlias(ref.name, ref.alias).version;
}

FetchedPolicy FetchRegisteredPolicy(tracking::TrackingHttpClient& client, const ModelRef& ref,
                                    const std::string& cache_dir) {
  const tracking::ModelVersion v = Resolve(client, ref);
  FetchedPolicy out;
  out.info.name = v.name;
  out.info.version = v.version;
  out.info.run_id = v.run_id;
  out.info.source = v.source;
  const tracking::ArtifactLocation loc = tracking::ParseModelSource(v);
  if (!loc.local_dir.empty()) {
    if (!fs::is_directory(loc.local_dir)) {
      throw std::runtime_error("model " + v.name + " version " + std::to_string(v.version) +
                               ": source " + loc.local_dir + " is not a directory on this machine");
    }
    out.dir = loc.local_dir;
    return out;
  }
  const fs::path dir = fs::path(cache_dir) / SafeName(v.name) / std::to_string(v.version);
  out.dir = dir.string();
  if (fs::exists(dir / "manifest.json")) return out;  // complete: directories appear by rename
  std::random_device rd;
  const fs::path tmp = dir.string() + ".tmp" + std::to_string(rd());
  fs::create_directories(tmp);
  try {
    CopyTree(client, loc.run_id, loc.path, tmp, loc.path, 0);
    if (!fs::exists(tmp / "manifest.json")) {
      throw std::runtime_error("model " + v.name + " version " + std::to_string(v.version) +
                               ": source " + v.source +
                               " has no manifest.json (not an exported eonops policy)");
    }
    std::error_code ec;
    fs::rename(tmp, dir, ec);
    if (ec) {
      if (!fs::exists(dir / "manifest.json"))
        throw std::runtime_error("cannot move " + tmp.string() + " to " + out.dir);
      fs::remove_all(tmp, ec);  // another process fetched it first
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return out;
}

RegistryWatcher::RegistryWatcher(std::string tracking_url, ModelRef ref, std::string cache_dir,
                                 std::chrono::milliseconds poll, int64_t current_version,
                                 OnChange on_change,
                                 std::function<void(const std::string&)> on_error)
    : url_(std::move(tracking_url)),
      ref_(std::move(ref)),
      cache_dir_(std::move(cache_dir)),
      poll_(poll),
      version_(current_version),
      on_change_(std::move(on_change)),
      on_error_(std::move(on_error)) {
  if (poll_.count() <= 0)
    throw std::invalid_argument("RegistryWatcher: the poll interval must be positive");
  thread_ = std::thread([this] { Loop(); });
}

RegistryWatcher::~RegistryWatcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RegistryWatcher::Loop() {
  tracking::HttpClientOptions o;
  o.timeout_seconds = 10;
  o.max_retries = 0;  // the next poll is the retry
  tracking::TrackingHttpClient client(url_, o);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!cv_.wait_for(lock, poll_, [&] { return stop_; })) {
    lock.unlock();
    try {
      if (ResolveModelVersion(client, ref_) != version_) {
        FetchedPolicy p = FetchRegisteredPolicy(client, ref_, cache_dir_);
        on_change_(p);
        version_ = p.info.version;
      }
    } catch (const std::exception& e) {
      if (on_error_) on_error_(e.what());
    }
    lock.lock();
  }
}

}  // namespace eonops::proto
