// The model registry: registered models, versions, stages, aliases and their audit trail.
#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "tracking/search_filter.h"
#include "tracking/store.h"
#include "tracking/store_internal.h"

namespace eonops::tracking {

using detail::Invalid;
using detail::NotFound;

namespace {

constexpr int64_t kMaxModelSearchResults = 1000;      // MLflow's threshold for models
constexpr int64_t kMaxVersionSearchResults = 200000;  // and for versions

void ValidateModelName(const std::string& name) {
  if (name.empty()) Invalid("Registered model name cannot be empty.");
  if (name.size() > 256) Invalid("Registered model name longer than 256 characters");
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20)
      Invalid("Registered model name must not contain control characters");
}

// MLflow's alias rules: word characters and dashes, not "latest" (a reserved selector), and not
// shaped like a version ("v3"), which would be ambiguous in models:/name@alias URIs.
void ValidateAlias(const std::string& alias) {
  if (alias.empty() || alias.size() > 255)
    Invalid("Alias must be a non-empty string of at most 255 characters.");
  for (char c : alias)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      Invalid("Invalid alias name: '" + alias +
              "'. Aliases may only contain alphanumerics, underscores (_) and dashes (-).");
  std::string lower = alias;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "latest") Invalid("'latest' alias name (case insensitive) is reserved.");
  if (lower.size() > 1 && lower[0] == 'v' &&
      std::all_of(lower.begin() + 1, lower.end(), [](char c) { return std::isdigit(c); }))
    Invalid("Version alias name '" + alias + "' is reserved.");
}

void RequireModel(Connection& db, const std::string& name) {
  auto st = db.Prepare("SELECT 1 FROM registered_models WHERE name = ?");
  st.Bind(1, name);
  if (!st.Step()) NotFound("Registered Model with name=" + name + " not found");
}

void TouchModel(Connection& db, const std::string& name, int64_t now) {
  auto st = db.Prepare("UPDATE registered_models SET last_updated_time = ? WHERE name = ?");
  st.Bind(1, now).Bind(2, name).Run();
}

ModelVersion LoadVersion(Connection& db, const std::string& name, int64_t version) {
  auto st = db.Prepare(
      "SELECT creation_time, last_updated_time, description, user_id, current_stage, source,"
      " run_id, run_link, status, status_message FROM model_versions"
      " WHERE name = ? AND version = ?");
  st.Bind(1, name).Bind(2, version);
  if (!st.Step())
    NotFound("Model Version (name=" + name + ", version=" + std::to_string(version) +
             ") not found");
  ModelVersion v;
  v.name = name;
  v.version = version;
  v.creation_timestamp_ms = st.Int64(0);
  v.last_updated_timestamp_ms = st.Int64(1);
  v.description = st.Text(2);
  v.user_id = st.Text(3);
  v.current_stage = ParseStage(st.Text(4)).value_or(Stage::kNone);
  v.source = st.Text(5);
  v.run_id = st.Text(6);
  v.run_link = st.Text(7);
  v.status = st.Text(8);
  v.status_message = st.Text(9);
  auto tags = db.Prepare(
      "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key");
  tags.Bind(1, name).Bind(2, version);
  while (tags.Step()) v.tags.push_back({tags.Text(0), tags.Text(1)});
  auto aliases =
      db.Prepare("SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias");
  aliases.Bind(1, name).Bind(2, version);
  while (aliases.Step()) v.aliases.push_back(aliases.Text(0));
  return v;
}

std::vector<ModelVersion> LatestVersions(Connection& db, const std::string& name,
                                         const std::vector<Stage>& stages) {
  auto st = db.Prepare(
      "SELECT current_stage, MAX(version) FROM model_versions WHERE name = ?"
      " GROUP BY current_stage");
  st.Bind(1, name);
  std::vector<std::pair<Stage, int64_t>> found;
  while (st.Step()) {
    Stage s = ParseStage(st.Text(0)).value_or(Stage::kNone);
    if (stages.empty() || std::find(stages.begin(), stages.end(), s) != stages.end())
      found.emplace_back(s, st.Int64(1));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<ModelVersion> out;
  for (const auto& [stage, version] : found) out.push_back(LoadVersion(db, name, version));
  return out;
}

RegisteredModel LoadModel(Connection& db, const std::string& name) {
  auto st = db.Prepare(
      "SELECT creation_time, last_updated_time, description FROM registered_models"
      " WHERE name = ?");
  st.Bind(1, name);
  if (!st.Step()) NotFound("Registered Model with name=" + name + " not found");
  RegisteredModel m;
  m.name = name;
  m.creation_timestamp_ms = st.Int64(0);
  m.last_updated_timestamp_ms = st.Int64(1);
  m.description = st.Text(2);
  auto tags =
      db.Prepare("SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key");
  tags.Bind(1, name);
  while (tags.Step()) m.tags.push_back({tags.Text(0), tags.Text(1)});
  auto aliases =
      db.Prepare("SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias");
  aliases.Bind(1, name);
  while (aliases.Step()) m.aliases.push_back({aliases.Text(0), aliases.Int64(1)});
  m.latest_versions = LatestVersions(db, name, {});
  return m;
}

void RecordStage(Connection& db, const std::string& name, int64_t version, Stage from, Stage to,
                 int64_t now, const std::string& actor) {
  auto st = db.Prepare(
      "INSERT INTO stage_history(name, version, from_stage, to_stage, changed_at, changed_by)"
      " VALUES(?, ?, ?, ?, ?, ?)");
  st.Bind(1, name).Bind(2, version).Bind(3, StageName(from)).Bind(4, StageName(to));
  st.Bind(5, now).Bind(6, actor).Run();
}

void RecordAlias(Connection& db, const std::string& name, const std::string& alias,
                 std::optional<int64_t> from, std::optional<int64_t> to, int64_t now,
                 const std::string& actor) {
  auto st = db.Prepare(
      "INSERT INTO alias_history(name, alias, from_version, to_version, changed_at, changed_by)"
      " VALUES(?, ?, ?, ?, ?, ?)");
  st.Bind(1, name).Bind(2, alias).Bind(3, from).Bind(4, to).Bind(5, now).Bind(6, actor).Run();
}

using Bindable = std::variant<int64_t, double, std::string>;

void BindAll(Statement& st, const std::vector<Bindable>& binds) {
  for (size_t i = 0; i < binds.size(); ++i) {
    int index = static_cast<int>(i + 1);
    std::visit([&](const auto& v) { st.Bind(index, v); }, binds[i]);
  }
}

void AddString(std::string& sql, std::vector<Bindable>& binds, const std::string& column,
               const FilterClause& c, Dialect dialect) {
  if (c.value.is_number)
    Invalid("Expected a quoted string for '" + c.key + "', got " + c.value.text);
  sql += detail::SqlStringComparison(column, c.op, c.value.list.size(), dialect);
  if (c.value.is_list) {
    for (const auto& v : c.value.list) binds.emplace_back(v);
  } else {
    binds.emplace_back(c.value.text);
  }
}

}  // namespace

RegisteredModel TrackingStore::CreateRegisteredModel(const std::string& name,
                                                     const std::string& description,
                                                     const std::vector<Tag>& tags) {
  ValidateModelName(name);
  for (const Tag& t : tags) {
    detail::ValidateKey("Tag", t.key);
    detail::ValidateTagValue(t.key, t.value);
  }
  return Write([&](Connection& db) {
    auto exists = db.Prepare("SELECT 1 FROM registered_models WHERE name = ?");
    exists.Bind(1, name);
    if (exists.Step())
      throw TrackingError(ErrorCode::kResourceAlreadyExists,
                          "Registered Model (name=" + name + ") already exists.");
    const int64_t now = NowMs();
    auto st = db.Prepare(
        "INSERT INTO registered_models(name, creation_time, last_updated_time, description)"
        " VALUES(?, ?, ?, ?)");
    st.Bind(1, name).Bind(2, now).Bind(3, now).Bind(4, description).Run();
    auto tag = db.Prepare(
        "INSERT INTO registered_model_tags(name, key, value) VALUES(?, ?, ?)"
        " ON CONFLICT (name, key) DO UPDATE SET value = excluded.value");
    for (const Tag& t : tags) {
      tag.Bind(1, name).Bind(2, t.key).Bind(3, t.value).Run();
      tag.Reset();
    }
    return LoadModel(db, name);
  });
}

RegisteredModel TrackingStore::GetRegisteredModel(const std::string& name) {
  ValidateModelName(name);
  return Read([&](Connection& db) { return LoadModel(db, name); });
}

Page<RegisteredModel> TrackingStore::SearchRegisteredModels(const SearchModelsRequest& request) {
  detail::CheckMaxResults(request.max_results, kMaxModelSearchResults);
  const int64_t offset = detail::DecodePageToken(request.page_token);
  std::string where = "TRUE";
  std::vector<Bindable> binds;
  for (const FilterClause& c : ParseFilter(request.filter)) {
    where += " AND ";
    if (c.entity == FilterEntity::kAttribute && c.key == "name") {
      AddString(where, binds, "m.name", c, dialect_);
    } else if (c.entity == FilterEntity::kTag) {
      where +=
          "EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = m.name AND t.key = ? AND ";
      binds.emplace_back(c.key);
      AddString(where, binds, "t.value", c, dialect_);
      where += ")";
    } else {
      Invalid("Invalid filter key '" + c.key +
              "' for registered models. Supported: name, tags.<key>");
    }
  }
  std::string order;
  for (const auto& text : request.order_by) {
    OrderByClause o = ParseOrderBy(text);
    std::string column;
    if (o.key == "name")
      column = "m.name";
    else if (o.key == "last_updated_timestamp" || o.key == "timestamp")
      column = "m.last_updated_time";
    else if (o.key == "creation_timestamp")
      column = "m.creation_time";
    else
      Invalid("Invalid order_by key '" + text + "' for registered models");
    order += (order.empty() ? "" : ", ") + column + (o.ascending ? " ASC" : " DESC");
  }
  order += order.empty() ? "m.name ASC" : ", m.name ASC";
  return Read([&](Connection& db) {
    auto st = db.Prepare("SELECT m.name FROM registered_models m WHERE " + where + " ORDER BY " +
                             order + " LIMIT ? OFFSET ?",
                         false);
    auto all = binds;
    all.emplace_back(request.max_results + 1);
    all.emplace_back(offset);
    BindAll(st, all);
    std::vector<std::string> names;
    while (st.Step()) names.push_back(st.Text(0));
    Page<RegisteredModel> page;
    if (static_cast<int64_t>(names.size()) > request.max_results) {
      names.pop_back();
      page.next_page_token = detail::EncodePageToken(offset + request.max_results);
    }
    for (const auto& n : names) page.items.push_back(LoadModel(db, n));
    return page;
  });
}

ModelVersion TrackingStore::CreateModelVersion(const std::string& name, const std::string& source,
                                               const std::string& run_id,
                                               const std::string& description,
                                               const std::vector<Tag>& tags,
                                               const std::string& user_id) {
  ValidateModelName(name);
  if (source.empty()) Invalid("Missing value for required parameter 'source'");
  for (const Tag& t : tags) {
    detail::ValidateKey("Tag", t.key);
    detail::ValidateTagValue(t.key, t.value);
  }
  return Write([&](Connection& db) {
    RequireModel(db, name);
    if (!run_id.empty()) detail::FindRun(db, run_id);
    auto next =
        db.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?");
    next.Bind(1, name).Step();
    const int64_t version = next.Int64(0);
    const int64_t now = NowMs();
    auto st = db.Prepare(
        "INSERT INTO model_versions(name, version, creation_time, last_updated_time, description,"
        " user_id, source, run_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(1, name).Bind(2, version).Bind(3, now).Bind(4, now).Bind(5, description);
    st.Bind(6, user_id).Bind(7, source).Bind(8, run_id).Run();
    auto tag = db.Prepare(
        "INSERT INTO model_version_tags(name, version, key, value) VALUES(?, ?, ?, ?)"
        " ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value");
    for (const Tag& t : tags) {
      tag.Bind(1, name).Bind(2, version).Bind(3, t.key).Bind(4, t.value).Run();
      tag.Reset();
    }
    TouchModel(db, name, now);
    return LoadVersion(db, name, version);
  });
}

ModelVersion TrackingStore::GetModelVersion(const std::string& name, int64_t version) {
  ValidateModelName(name);
  return Read([&](Connection& db) {
    RequireModel(db, name);
    return LoadVersion(db, name, version);
  });
}

Page<ModelVersion> TrackingStore::SearchModelVersions(const SearchModelsRequest& request) {
  detail::CheckMaxResults(request.max_results, kMaxVersionSearchResults);
  const int64_t offset = detail::DecodePageToken(request.page_token);
  std::string where = "TRUE";
  std::vector<Bindable> binds;
  for (const FilterClause& c : ParseFilter(request.filter)) {
    where += " AND ";
    if (c.entity == FilterEntity::kAttribute && c.key == "name") {
      AddString(where, binds, "v.name", c, dialect_);
    } else if (c.entity == FilterEntity::kAttribute && c.key == "run_id") {
      AddString(where, binds, "v.run_id", c, dialect_);
    } else if (c.entity == FilterEntity::kAttribute &&
               (c.key == "source_path" || c.key == "source")) {
      AddString(where, binds, "v.source", c, dialect_);
    } else if (c.entity == FilterEntity::kAttribute &&
               (c.key == "version_number" || c.key == "version")) {
      if (!c.value.is_number && c.value.text.find_first_not_of("0123456789") != std::string::npos)
        Invalid("Expected an integer version_number, got '" + c.value.text + "'");
      const char* op = nullptr;
      switch (c.op) {
        case Comparator::kEq:
          op = "=";
          break;
        case Comparator::kNe:
          op = "!=";
          break;
        case Comparator::kLt:
          op = "<";
          break;
        case Comparator::kLe:
          op = "<=";
          break;
        case Comparator::kGt:
          op = ">";
          break;
        case Comparator::kGe:
          op = ">=";
          break;
        default:
          Invalid("Invalid comparator for version_number");
      }
      where += std::string("v.version ") + op + " ?";
      binds.emplace_back(
          static_cast<int64_t>(c.value.is_number ? c.value.number : std::stod(c.value.text)));
    } else if (c.entity == FilterEntity::kTag) {
      where +=
          "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = v.name AND"
          " t.version = v.version AND t.key = ? AND ";
      binds.emplace_back(c.key);
      AddString(where, binds, "t.value", c, dialect_);
      where += ")";
    } else {
      Invalid("Invalid filter key '" + c.key +
              "' for model versions. Supported: name, run_id, source_path, version_number, "
              "tags.<key>");
    }
  }
  std::string order;
  for (const auto& text : request.order_by) {
    OrderByClause o = ParseOrderBy(text);
    std::string column;
    if (o.key == "name")
      column = "v.name";
    else if (o.key == "version_number" || o.key == "version")
      column = "v.version";
    else if (o.key == "last_updated_timestamp" || o.key == "timestamp")
      column = "v.last_updated_time";
    else if (o.key == "creation_timestamp")
      column = "v.creation_time";
    else
      Invalid("Invalid order_by key '" + text + "' for model versions");
    order += (order.empty() ? "" : ", ") + column + (o.ascending ? " ASC" : " DESC");
  }
  order += order.empty() ? "v.name ASC, v.version DESC" : ", v.name ASC, v.version DESC";
  return Read([&](Connection& db) {
    auto st = db.Prepare("SELECT v.name, v.version FROM model_versions v WHERE " + where +
                             " ORDER BY " + order + " LIMIT ? OFFSET ?",
                         false);
    auto all = binds;
    all.emplace_back(request.max_results + 1);
    all.emplace_back(offset);
    BindAll(st, all);
    std::vector<std::pair<std::string, int64_t>> keys;
    while (st.Step()) keys.emplace_back(st.Text(0), st.Int64(1));
    Page<ModelVersion> page;
    if (static_cast<int64_t>(keys.size()) > request.max_results) {
      keys.pop_back();
      page.next_page_token = detail::EncodePageToken(offset + request.max_results);
    }
    for (const auto& [n, v] : keys) page.items.push_back(LoadVersion(db, n, v));
    return page;
  });
}

std::vector<ModelVersion> TrackingStore::GetLatestVersions(const std::string& name,
                                                           const std::vector<Stage>& stages) {
  ValidateModelName(name);
  return Read([&](Connection& db) {
    RequireModel(db, name);
    return LatestVersions(db, name, stages);
  });
}

ModelVersion TrackingStore::TransitionStage(const std::string& name, int64_t version, Stage stage,
                                            bool archive_existing, const std::string& actor) {
  ValidateModelName(name);
  if (archive_existing && stage != Stage::kStaging && stage != Stage::kProduction)
    Invalid("Model version transition cannot archive existing model versions because '" +
            std::string(StageName(stage)) +
            "' is not an Active stage. Valid stages are "
            "Staging, Production");
  return Write([&](Connection& db) {
    RequireModel(db, name);
    ModelVersion v = LoadVersion(db, name, version);
    const int64_t now = NowMs();
    if (archive_existing) {
      auto others = db.Prepare(
          "SELECT version FROM model_versions WHERE name = ? AND current_stage = ?"
          " AND version != ?");
      others.Bind(1, name).Bind(2, StageName(stage)).Bind(3, version);
      std::vector<int64_t> moved;
      while (others.Step()) moved.push_back(others.Int64(0));
      for (int64_t other : moved) {
        auto up = db.Prepare(
            "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?"
            " WHERE name = ? AND version = ?");
        up.Bind(1, now).Bind(2, name).Bind(3, other).Run();
        RecordStage(db, name, other, stage, Stage::kArchived, now, actor);
      }
    }
    if (v.current_stage != stage) {
      auto up = db.Prepare(
          "UPDATE model_versions SET current_stage = ?, last_updated_time = ?"
          " WHERE name = ? AND version = ?");
      up.Bind(1, StageName(stage)).Bind(2, now).Bind(3, name).Bind(4, version).Run();
      RecordStage(db, name, version, v.current_stage, stage, now, actor);
    }
    TouchModel(db, name, now);
    return LoadVersion(db, name, version);
  });
}

void TrackingStore::SetAlias(const std::string& name, const std::string& alias, int64_t version,
                             const std::string& actor) {
  ValidateModelName(name);
  ValidateAlias(alias);
  Write([&](Connection& db) {
    RequireModel(db, name);
    LoadVersion(db, name, version);  // RESOURCE_DOES_NOT_EXIST for an unknown version
    auto old = db.Prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?");
    old.Bind(1, name).Bind(2, alias);
    std::optional<int64_t> from;
    if (old.Step()) from = old.Int64(0);
    if (from == version) return;  // not a move: nothing to record
    auto st = db.Prepare(
        "INSERT INTO model_aliases(name, alias, version) VALUES(?, ?, ?)"
        " ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version");
    st.Bind(1, name).Bind(2, alias).Bind(3, version).Run();
    const int64_t now = NowMs();
    RecordAlias(db, name, alias, from, version, now, actor);
    TouchModel(db, name, now);
  });
}

void TrackingStore::DeleteAlias(const std::string& name, const std::string& alias,
                                const std::string& actor) {
  ValidateModelName(name);
  ValidateAlias(alias);
  Write([&](Connection& db) {
    RequireModel(db, name);
    auto old = db.Prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?");
    old.Bind(1, name).Bind(2, alias);
    if (!old.Step()) return;  // as MLflow: deleting an absent alias is a no-op
    const int64_t from = old.Int64(0);
    auto st = db.Prepare("DELETE FROM model_aliases WHERE name = ? AND alias = ?");
    st.Bind(1, name).Bind(2, alias).Run();
    const int64_t now = NowMs();
    RecordAlias(db, name, alias, from, std::nullopt, now, actor);
    TouchModel(db, name, now);
  });
}

ModelVersion TrackingStore::GetModelVersionByAlias(const std::string& name,
                                                   const std::string& alias) {
  ValidateModelName(name);
  if (alias.empty()) Invalid("Missing value for required parameter 'alias'");
  return Read([&](Connection& db) {
    RequireModel(db, name);
    auto st = db.Prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?");
    st.Bind(1, name).Bind(2, alias);
    if (!st.Step()) NotFound("Registered model alias " + alias + " not found.");
    return LoadVersion(db, name, st.Int64(0));
  });
}

std::vector<AliasEvent> TrackingStore::GetAliasHistory(const std::string& name,
                                                       const std::string& alias) {
  ValidateModelName(name);
  return Read([&](Connection& db) {
    RequireModel(db, name);
    auto st = db.Prepare(
        "SELECT id, alias, from_version, to_version, changed_at, changed_by FROM alias_history"
        " WHERE name = ?1 AND (?2 = '' OR alias = ?2) ORDER BY changed_at, id");
    st.Bind(1, name).Bind(2, alias);
    std::vector<AliasEvent> out;
    while (st.Step()) {
      AliasEvent e;
      e.id = st.Int64(0);
      e.name = name;
      e.alias = st.Text(1);
      e.from_version = st.OptionalInt64(2);
      e.to_version = st.OptionalInt64(3);
      e.changed_at_ms = st.Int64(4);
      e.changed_by = st.Text(5);
      out.push_back(std::move(e));
    }
    return out;
  });
}

namespace {

ModelDecision LoadDecision(Statement& st, const std::string& name) {
  ModelDecision d;
  d.id = st.Int64(0);
  d.name = name;
  d.version = st.Int64(1);
  d.kind = st.Text(2);
  d.reason = st.Text(3);
  d.figures_json = st.Text(4);
  d.alias = st.Text(5);
  d.from_version = st.OptionalInt64(6);
  d.to_version = st.OptionalInt64(7);
  d.key = st.Text(8);
  d.decided_at_ms = st.Int64(9);
  d.decided_by = st.Text(10);
  return d;
}

constexpr const char* kDecisionColumns =
    "id, version, kind, reason, figures, alias, from_version, to_version, idempotency_key,"
    " decided_at, decided_by";

}  // namespace

ModelDecision TrackingStore::RecordModelDecision(const RecordDecisionRequest& r,
                                                 const std::string& actor) {
  ValidateModelName(r.name);
  if (r.kind.empty() || r.kind.size() > 64 ||
      !std::all_of(r.kind.begin(), r.kind.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      }))
    Invalid("Decision kind must be 1 to 64 lowercase letters, dashes or underscores, got '" +
            r.kind.substr(0, 80) + "'");
  if (r.version < 0) Invalid("Decision version must not be negative");
  if (r.reason.size() > Limits::kMaxTagValueLength)
    Invalid("Decision reason longer than " + std::to_string(Limits::kMaxTagValueLength) +
            " characters");
  if (r.key.size() > Limits::kMaxKeyLength)
    Invalid("Decision key longer than " + std::to_string(Limits::kMaxKeyLength) + " characters");
  if (r.figures_json.size() > (1u << 20)) Invalid("Decision figures larger than 1 MiB");
  const nlohmann::json figures = nlohmann::json::parse(r.figures_json, nullptr, false);
  if (figures.is_discarded() || !figures.is_object())
    Invalid("Decision figures must be a JSON object");
  if (!r.alias.empty()) {
    ValidateAlias(r.alias);
    if (r.version == 0) Invalid("A decision that moves an alias must name a version");
  }
  return Write([&](Connection& db) {
    RequireModel(db, r.name);
    if (!r.key.empty()) {
      auto seen = db.Prepare(std::string("SELECT ") + kDecisionColumns +
                             " FROM model_decisions WHERE name = ? AND idempotency_key = ?");
      seen.Bind(1, r.name).Bind(2, r.key);
      if (seen.Step()) return LoadDecision(seen, r.name);
    }
    if (r.version > 0) LoadVersion(db, r.name, r.version);  // RESOURCE_DOES_NOT_EXIST
    const int64_t now = NowMs();
    std::optional<int64_t> from, to;
    if (!r.alias.empty()) {
      auto old = db.Prepare("SELECT version FROM model_aliases WHERE name = ? AND alias = ?");
      old.Bind(1, r.name).Bind(2, r.alias);
      if (old.Step()) from = old.Int64(0);
      if (r.expect_alias_version && from.value_or(0) != *r.expect_alias_version) {
        throw TrackingError(
            ErrorCode::kResourceConflict,
            "alias " + r.alias + " of " + r.name + " points at " +
                (from ? "version " + std::to_string(*from) : std::string("no version")) +
                ", not " +
                (*r.expect_alias_version ? "version " + std::to_string(*r.expect_alias_version)
                                         : std::string("nothing")) +
                ": the " + r.kind + " decision was not applied");
      }
      to = r.version;
      if (from != to) {
        auto st = db.Prepare(
            "INSERT INTO model_aliases(name, alias, version) VALUES(?, ?, ?)"
            " ON CONFLICT(name, alias) DO UPDATE SET version = excluded.version");
        st.Bind(1, r.name).Bind(2, r.alias).Bind(3, r.version).Run();
        RecordAlias(db, r.name, r.alias, from, to, now, actor);
        TouchModel(db, r.name, now);
      }
    }
    auto ins = db.Prepare(
        "INSERT INTO model_decisions(name, version, kind, reason, figures, alias, from_version,"
        " to_version, idempotency_key, decided_at, decided_by)"
        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    ins.Bind(1, r.name).Bind(2, r.version).Bind(3, r.kind).Bind(4, r.reason);
    ins.Bind(5, figures.dump()).Bind(6, r.alias).Bind(7, from).Bind(8, to).Bind(9, r.key);
    ins.Bind(10, now).Bind(11, actor);
    if (!ins.Step()) throw TrackingError(ErrorCode::kInternalError, "decision insert returned no id");
    ModelDecision d;
    d.id = ins.Int64(0);
    d.name = r.name;
    d.version = r.version;
    d.kind = r.kind;
    d.reason = r.reason;
    d.figures_json = figures.dump();
    d.alias = r.alias;
    d.from_version = from;
    d.to_version = to;
    d.key = r.key;
    d.decided_at_ms = now;
    d.decided_by = actor;
    return d;
  });
}

std::vector<ModelDecision> TrackingStore::GetModelDecisions(const std::string& name,
                                                            int64_t max_results) {
  ValidateModelName(name);
  if (max_results < 0) Invalid("max_results must not be negative");
  return Read([&](Connection& db) {
    RequireModel(db, name);
    auto st = db.Prepare(std::string("SELECT ") + kDecisionColumns +
                         " FROM model_decisions WHERE name = ? ORDER BY id DESC LIMIT ?");
    st.Bind(1, name).Bind(2, max_results > 0 ? max_results : std::numeric_limits<int64_t>::max());
    std::vector<ModelDecision> out;
    while (st.Step()) out.push_back(LoadDecision(st, name));
    std::reverse(out.begin(), out.end());
    return out;
  });
}

std::vector<StageEvent> TrackingStore::GetStageHistory(const std::string& name) {
  ValidateModelName(name);
  return Read([&](Connection& db) {
    RequireModel(db, name);
    auto st = db.Prepare(
        "SELECT id, version, from_stage, to_stage, changed_at, changed_by FROM stage_history"
        " WHERE name = ? ORDER BY changed_at, id");
    st.Bind(1, name);
    std::vector<StageEvent> out;
    while (st.Step()) {
      StageEvent e;
      e.id = st.Int64(0);
      e.name = name;
      e.version = st.Int64(1);
      e.from_stage = ParseStage(st.Text(2)).value_or(Stage::kNone);
      e.to_stage = ParseStage(st.Text(3)).value_or(Stage::kNone);
      e.changed_at_ms = st.Int64(4);
      e.changed_by = st.Text(5);
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace eonops::tracking
