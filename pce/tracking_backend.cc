#include "pce/tracking_backend.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <type_traits>

#include "tracking/errors.h"
#include "tracking/model_source.h"

namespace eonops::pce {

namespace fs = std::filesystem;

namespace {

// TrackingStore and TrackingHttpClient share their method names; one adapter serves both.
template <typename Client>
class Adapter final : public TrackingBackend {
 public:
  Adapter(Client* client, std::unique_ptr<Client> owned, std::string description,
          std::string actor = "")
      : client_(client),
        owned_(std::move(owned)),
        description_(std::move(description)),
        actor_(std::move(actor)) {}
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
  tracking::ModelVersion GetModelVersion(const std::string& n, int64_t v) override {
    return client_->GetModelVersion(n, v);
  }
  tracking::Page<tracking::ModelVersion> SearchModelVersions(
      const tracking::SearchModelsRequest& r) override {
    return client_->SearchModelVersions(r);
  }
  std::vector<tracking::AliasEvent> GetAliasHistory(const std::string& n,
                                                    const std::string& a) override {
    return client_->GetAliasHistory(n, a);
  }
  tracking::RegisteredModel CreateRegisteredModel(const std::string& n,
                                                  const std::string& d) override {
    return client_->CreateRegisteredModel(n, d);
  }
  tracking::ModelVersion CreateModelVersion(const std::string& n, const std::string& s,
                                            const std::string& r, const std::string& d,
                                            const std::vector<tracking::Tag>& t) override {
    if constexpr (std::is_same_v<Client, tracking::TrackingStore>) {
      return client_->CreateModelVersion(n, s, r, d, t, actor_);
    } else {
      return client_->CreateModelVersion(n, s, r, d, t);
    }
  }
  tracking::ModelDecision RecordModelDecision(const tracking::RecordDecisionRequest& r) override {
    if constexpr (std::is_same_v<Client, tracking::TrackingStore>) {
      return client_->RecordModelDecision(r, actor_);
    } else {
      return client_->RecordModelDecision(r);
    }
  }
  std::vector<tracking::ModelDecision> GetModelDecisions(const std::string& n,
                                                         int64_t max) override {
    return client_->GetModelDecisions(n, max);
  }
  tracking::Page<tracking::Run> SearchRuns(const tracking::SearchRunsRequest& r) override {
    return client_->SearchRuns(r);
  }
  tracking::ArtifactFile LogArtifact(const std::string& r, const std::string& f,
                                     const std::string& d) override {
    return client_->LogArtifact(r, f, d);
  }

 private:
  Client* client_;
  std::unique_ptr<Client> owned_;
  std::string description_;
  std::string actor_;  // the store's alias moves and decisions (HTTP sends its user instead)
};

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

TrackingConnector StoreConnector(tracking::TrackingStore* store, std::string actor) {
  return [store, actor]() -> std::unique_ptr<TrackingBackend> {
    return std::make_unique<Adapter<tracking::TrackingStore>>(
        store, nullptr, "sqlite:" + store->options().db_path, actor);
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


std::string FetchArtifactDir(TrackingBackend& backend, const tracking::ModelVersion& v,
                             const std::string& dir) {
  tracking::ArtifactLocation loc = tracking::ParseModelSource(v);
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
