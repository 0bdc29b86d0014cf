#include "pce/tracking_backend.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tracking/errors.h"

namespace eonops::pce {

namespace fs = std::filesystem;

namespace {

// TrackingStore and TrackingHttpClient share their method names; one adapter serves both.
template <typename Client>
class Adapter final : public TrackingBackend {
 public:
  Adapter(Client* client, std::unique_ptr<Client> owned, std::string description)
      : client_(client), owned_(std::move(owned)), description_(std::move(description)) {}
  std::string Describe() const override { return description_; }
  tracking::ModelVersion GetModelVersionByAlias(const std::string& n,
                                                const std::string& a) override {
    return client_->GetModelVersionByAlias(n, a);
  }
  tracking::RegisteredModel GetRegisteredModel(const std::string& n) override {
    return client_->GetRegisteredModel(n);
  }
  std::vector<tracking::ArtifactFile> ListArtifacts(const std::string& r,
                                                    const std::string& p) override {
    return client_->ListArtifacts(r, p);
  }
  std::string ReadArtifact(const std::string& r, const std::string& p) override {
    return client_->ReadArtifact(r, p);
  }
  std::string GetOrCreateExperiment(const std::string& n) override {
    return client_->GetOrCreateExperiment(n);
  }
  tracking::Run CreateRun(const tracking::CreateRunOptions& o) override {
    return client_->CreateRun(o);
  }
  void LogBatch(const std::string& r, const std::vector<tracking::Metric>& m,
                const std::vector<tracking::Param>& p,
                const std::vector<tracking::Tag>& t) override {
    client_->LogBatch(r, m, p, t);
  }
  void LogEpisodes(const std::string& r, const std::vector<tracking::Episode>& e) override {
    client_->LogEpisodes(r, e);
  }
  void SetTag(const std::string& r, const std::string& k, const std::string& v) override {
    client_->SetTag(r, k, v);
  }
  void EndRun(const std::string& r, tracking::RunStatus s) override { client_->EndRun(r, s); }

 private:
  Client* client_;
  std::unique_ptr<Client> owned_;
  std::string description_;
};

bool StartsWith(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void CopyTree(TrackingBackend& backend, const std::string& run_id, const std::string& path,
              const fs::path& to, int depth) {
  if (depth > 8) throw std::runtime_error("artifact directory " + path + " nests too deep");
  fs::create_directories(to);
  for (const auto& f : backend.ListArtifacts(run_id, path)) {
    const std::string name = fs::path(f.path).filename().string();
    if (name.empty() || name == "." || name == "..") continue;
    if (f.is_dir) {
      CopyTree(backend, run_id, f.path, to / name, depth + 1);
      continue;
    }
    const std::string bytes = backend.ReadArtifact(run_id, f.path);
    std::ofstream out(to / name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (to / name).string());
  }
}

}  // namespace

TrackingConnector StoreConnector(tracking::TrackingStore* store) {
  return [store]() -> std::unique_ptr<TrackingBackend> {
    return std::make_unique<Adapter<tracking::TrackingStore>>(store, nullptr,
                                                              "sqlite:" + store->options().db_path);
  };
}

TrackingConnector HttpConnector(const std::string& base_url, tracking::HttpClientOptions options) {
  return [base_url, options]() -> std::unique_ptr<TrackingBackend> {
    auto client = std::make_unique<tracking::TrackingHttpClient>(base_url, options);
    tracking::TrackingHttpClient* raw = client.get();
    return std::make_unique<Adapter<tracking::TrackingHttpClient>>(raw, std::move(client),
                                                                   base_url);
  };
}

std::optional<tracking::ModelVersion> ResolveServedVersion(TrackingBackend& backend,
                                                           const PolicyBinding& b) {
  try {
    return backend.GetModelVersionByAlias(b.model, b.alias);
  } catch (const tracking::TrackingError& e) {
    if (e.code() != tracking::ErrorCode::kResourceDoesNotExist) throw;
  }
  if (!b.production_stage) return std::nullopt;
  tracking::RegisteredModel rm;
  try {
    rm = backend.GetRegisteredModel(b.model);
  } catch (const tracking::TrackingError& e) {
    if (e.code() == tracking::ErrorCode::kResourceDoesNotExist) return std::nullopt;
    throw;
  }
  std::optional<tracking::ModelVersion> best;
  for (const auto& v : rm.latest_versions) {
    if (v.current_stage == tracking::Stage::kProduction && (!best || v.version > best->version))
      best = v;
  }
  return best;
}

ArtifactLocation ParseModelSource(const tracking::ModelVersion& v) {
  ArtifactLocation loc;
  const std::string& s = v.source;
  if (StartsWith(s, "runs:/")) {
    std::string rest = TrimSlashes(s.substr(6));
    auto slash = rest.find('/');
    loc.run_id = rest.substr(0, slash);
    loc.path = slash == std::string::npos ? "" : TrimSlashes(rest.substr(slash + 1));
  } else if (StartsWith(s, "mlflow-artifacts:/")) {
    // mlflow-artifacts:/<experiment>/<run>/artifacts/<path>
    std::string rest = TrimSlashes(s.substr(18));
    auto marker = rest.find("/artifacts");
    auto first = rest.find('/');
    if (marker == std::string::npos || first == std::string::npos || first >= marker) {
      throw std::invalid_argument("model source '" + s +
                                  "' is not mlflow-artifacts:/<experiment>/<run>/artifacts/<path>");
    }
    loc.run_id = rest.substr(first + 1, marker - first - 1);
    loc.path = TrimSlashes(rest.substr(marker + 10));
  } else if (StartsWith(s, "file://")) {
    loc.local_dir = s.substr(7);
  } else if (!s.empty() && s[0] == '/') {
    loc.local_dir = s;
  } else if (!v.run_id.empty() && s.find(':') == std::string::npos) {
    loc.run_id = v.run_id;
    loc.path = TrimSlashes(s);
  } else {
    throw std::invalid_argument(
        "model version " + v.name + "/" + std::to_string(v.version) + ": cannot load source '" + s +
        "' (expected runs:/<run>/<path>, mlflow-artifacts:/..., or a directory)");
  }
  if (loc.local_dir.empty() && loc.run_id.empty()) {
    throw std::invalid_argument("model source '" + s + "' names no run");
  }
  return loc;
}

std::string FetchArtifactDir(TrackingBackend& backend, const tracking::ModelVersion& v,
                             const std::string& dir) {
  ArtifactLocation loc = ParseModelSource(v);
  if (!loc.local_dir.empty()) {
    if (!fs::is_directory(loc.local_dir))
      throw std::runtime_error("model source " + loc.local_dir + " is not a directory");
    return loc.local_dir;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  CopyTree(backend, loc.run_id, loc.path, dir, 0);
  return dir;
}

}  // namespace eonops::pce
