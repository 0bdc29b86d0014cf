// Search over runs and experiments: MLflow filter strings turned into parameterised SQL.
#include <variant>

#include "tracking/search_filter.h"
#include "tracking/store.h"
#include "tracking/store_internal.h"

namespace eonops::tracking {

using detail::Invalid;

namespace {

using Bindable = std::variant<int64_t, double, std::string>;

// SQL text plus its positional bindings, built up clause by clause.
struct SqlBuilder {
  std::string sql;
  std::vector<Bindable> binds;

  void Bind(Statement& st) const {
    for (size_t i = 0; i < binds.size(); ++i) {
      int index = static_cast<int>(i + 1);
      std::visit([&](const auto& v) { st.Bind(index, v); }, binds[i]);
    }
  }
};

const char* NumericOp(Comparator op, const std::string& what) {
  switch (op) {
    case Comparator::kEq:
    case Comparator::kNe:
    case Comparator::kLt:
    case Comparator::kLe:
    case Comparator::kGt:
    case Comparator::kGe:
      return ComparatorText(op);  // the SQL spelling is the filter's
    default:
      break;
  }
  Invalid(std::string("Invalid comparator '") + ComparatorText(op) + "' for " + what +
          ". Only =, !=, <, <=, >, >= are supported for numbers.");
}

void RequireString(const FilterClause& c, const std::string& what) {
  if (c.value.is_number)
    Invalid("Expected a quoted string value for " + what + " (e.g. " + what + " = 'value')");
  if (c.op != Comparator::kEq && c.op != Comparator::kNe && c.op != Comparator::kLike &&
      c.op != Comparator::kILike && c.op != Comparator::kIn && c.op != Comparator::kNotIn)
    Invalid(std::string("Invalid comparator '") + ComparatorText(c.op) + "' for " + what +
            ". Only =, !=, LIKE, ILIKE, IN and NOT IN are supported for strings.");
}

void AddStringComparison(SqlBuilder& b, const std::string& column, const FilterClause& c,
                         Dialect dialect) {
  b.sql += detail::SqlStringComparison(column, c.op, c.value.list.size(), dialect);
  if (c.value.is_list) {
    for (const auto& v : c.value.list) b.binds.emplace_back(v);
  } else {
    b.binds.emplace_back(c.value.text);
  }
}

void AddNumericComparison(SqlBuilder& b, const std::string& column, const FilterClause& c,
                          const std::string& what) {
  if (!c.value.is_number || c.value.is_list)
    Invalid("Expected a numeric value for " + what + ", got '" + c.value.text + "'");
  b.sql += column + " " + NumericOp(c.op, what) + " ?";
  b.binds.emplace_back(c.value.number);
}

// Run attributes that can be filtered and sorted on, and their columns.
struct RunAttribute {
  const char* name;
  const char* column;
  bool numeric;
};
constexpr RunAttribute kRunAttributes[] = {
    {"status", "r.status", false},        {"run_name", "r.name", false},
    {"run name", "r.name", false},        {"name", "r.name", false},
    {"run_id", "r.run_uuid", false},      {"run_uuid", "r.run_uuid", false},
    {"user_id", "r.user_id", false},      {"artifact_uri", "r.artifact_uri", false},
    {"start_time", "r.start_time", true}, {"end_time", "r.end_time", true},
    {"created", "r.start_time", true},    {"experiment_id", "r.experiment_id", true},
};

const RunAttribute& FindRunAttribute(const std::string& key) {
  for (const auto& a : kRunAttributes)
    if (key == a.name) return a;
  Invalid("Invalid attribute key '" + key +
          "' specified. Valid keys are: status, run_name, run_id, user_id, artifact_uri, "
          "start_time, end_time");
}

void AddRunClause(SqlBuilder& b, const FilterClause& c, Dialect dialect) {
  const std::string what = std::string(EntityText(c.entity)) + "." + c.key;
  switch (c.entity) {
    case FilterEntity::kMetric:
      b.sql +=
          "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_pk = r.run_pk AND m.key = ?"
          " AND m.is_nan = 0 AND m.value ";
      b.binds.emplace_back(c.key);
      if (!c.value.is_number || c.value.is_list)
        Invalid("Expected a numeric value for " + what + ", got '" + c.value.text + "'");
      b.sql += std::string(NumericOp(c.op, what)) + " ?)";
      b.binds.emplace_back(c.value.number);
      return;
    case FilterEntity::kParam:
    case FilterEntity::kTag: {
      RequireString(c, what);
      const char* table = c.entity == FilterEntity::kParam ? "params" : "tags";
      b.sql += std::string("EXISTS (SELECT 1 FROM ") + table +
               " x WHERE x.run_pk = r.run_pk AND x.key = ? AND ";
      b.binds.emplace_back(c.key);
      AddStringComparison(b, "x.value", c, dialect);
      b.sql += ")";
      return;
    }
    case FilterEntity::kAttribute: {
      const RunAttribute& a = FindRunAttribute(c.key);
      if (a.numeric) {
        AddNumericComparison(b, a.column, c, what);
      } else {
        RequireString(c, what);
        AddStringComparison(b, a.column, c, dialect);
      }
      return;
    }
  }
}

// "ORDER BY" terms for one order_by string; missing values sort last whatever the direction,
// as in MLflow.
void AddRunOrder(SqlBuilder& b, const std::string& text, bool* has_start_time) {
  OrderByClause o = ParseOrderBy(text);
  const char* dir = o.ascending ? " ASC" : " DESC";
  std::string expr;
  switch (o.entity) {
    case FilterEntity::kMetric:
      expr =
          "(SELECT m.value FROM latest_metrics m WHERE m.run_pk = r.run_pk AND m.key = ?"
          " AND m.is_nan = 0)";
      break;
    case FilterEntity::kParam:
      expr = "(SELECT x.value FROM params x WHERE x.run_pk = r.run_pk AND x.key = ?)";
      break;
    case FilterEntity::kTag:
      expr = "(SELECT x.value FROM tags x WHERE x.run_pk = r.run_pk AND x.key = ?)";
      break;
    case FilterEntity::kAttribute: {
      const RunAttribute& a = FindRunAttribute(o.key);
      expr = a.column;
      if (std::string(a.column) == "r.start_time") *has_start_time = true;
      break;
    }
  }
  if (!b.sql.empty()) b.sql += ", ";
  const bool keyed = o.entity != FilterEntity::kAttribute;
  b.sql += "(" + expr + ") IS NULL, " + expr + dir;
  if (keyed) {
    b.binds.emplace_back(o.key);
    b.binds.emplace_back(o.key);
  }
}

const char* LifecycleCondition(ViewType view, const char* column) {
  static thread_local std::string s;
  switch (view) {
    case ViewType::kActiveOnly:
      s = std::string(column) + " = 'active'";
      break;
    case ViewType::kDeletedOnly:
      s = std::string(column) + " = 'deleted'";
      break;
    case ViewType::kAll:
      s = "TRUE";
      break;
  }
  return s.c_str();
}

}  // namespace

Page<Run> TrackingStore::SearchRuns(const SearchRunsRequest& request) {
  detail::CheckMaxResults(request.max_results, Limits::kMaxSearchResults);
  const int64_t offset = detail::DecodePageToken(request.page_token);
  std::vector<int64_t> experiment_ids;
  for (const auto& id : request.experiment_ids)
    experiment_ids.push_back(detail::ParseExperimentId(id));

  SqlBuilder where;
  where.sql = "r.experiment_id IN (";
  for (size_t i = 0; i < experiment_ids.size(); ++i) {
    where.sql += i ? ",?" : "?";
    where.binds.emplace_back(experiment_ids[i]);
  }
  where.sql += ") AND ";
  where.sql += LifecycleCondition(request.view, "r.lifecycle_stage");
  for (const FilterClause& c : ParseFilter(request.filter)) {
    where.sql += " AND ";
    AddRunClause(where, c, dialect_);
  }
  SqlBuilder order;
  bool has_start_time = false;
  for (const auto& o : request.order_by) AddRunOrder(order, o, &has_start_time);
  // MLflow's default and tie-breakers: newest first, then by id for a stable order across pages.
  if (!has_start_time)
    order.sql += std::string(order.sql.empty() ? "" : ", ") + "r.start_time DESC";
  order.sql += ", r.run_uuid ASC";

  if (experiment_ids.empty()) return {};
  return Read([&](Connection& db) {
    std::string sql = "SELECT r.run_pk FROM runs r WHERE " + where.sql + " ORDER BY " + order.sql +
                      " LIMIT ? OFFSET ?";
    auto st = db.Prepare(sql, false);
    SqlBuilder all;
    all.binds = where.binds;
    all.binds.insert(all.binds.end(), order.binds.begin(), order.binds.end());
    all.binds.emplace_back(request.max_results + 1);
    all.binds.emplace_back(offset);
    all.Bind(st);
    std::vector<int64_t> pks;
    while (st.Step()) pks.push_back(st.Int64(0));
    Page<Run> page;
    if (static_cast<int64_t>(pks.size()) > request.max_results) {
      pks.pop_back();
      page.next_page_token = detail::EncodePageToken(offset + request.max_results);
    }
    page.items = detail::LoadRuns(db, pks);
    return page;
  });
}

Page<Experiment> TrackingStore::SearchExperiments(const SearchExperimentsRequest& request) {
  detail::CheckMaxResults(request.max_results, Limits::kMaxSearchResults);
  const int64_t offset = detail::DecodePageToken(request.page_token);
  SqlBuilder where;
  where.sql = LifecycleCondition(request.view, "e.lifecycle_stage");
  for (const FilterClause& c : ParseFilter(request.filter)) {
    where.sql += " AND ";
    const std::string what = std::string(EntityText(c.entity)) + "." + c.key;
    if (c.entity == FilterEntity::kTag) {
      RequireString(c, what);
      where.sql +=
          "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id"
          " AND t.key = ? AND ";
      where.binds.emplace_back(c.key);
      AddStringComparison(where, "t.value", c, dialect_);
      where.sql += ")";
    } else if (c.entity == FilterEntity::kAttribute && c.key == "name") {
      RequireString(c, what);
      AddStringComparison(where, "e.name", c, dialect_);
    } else if (c.entity == FilterEntity::kAttribute &&
               (c.key == "creation_time" || c.key == "last_update_time")) {
      AddNumericComparison(where, "e." + c.key, c, what);
    } else {
      Invalid("Invalid experiment filter key '" + what +
              "'. Supported: name, creation_time, last_update_time, tags.<key>");
    }
  }
  std::string order;
  for (const auto& text : request.order_by) {
    OrderByClause o = ParseOrderBy(text);
    if (o.entity != FilterEntity::kAttribute ||
        (o.key != "name" && o.key != "experiment_id" && o.key != "creation_time" &&
         o.key != "last_update_time"))
      Invalid("Invalid order_by key '" + text +
              "'. Supported: name, experiment_id, creation_time, last_update_time");
    order +=
        (order.empty() ? "" : ", ") + std::string("e.") + o.key + (o.ascending ? " ASC" : " DESC");
  }
  if (order.empty()) order = "e.creation_time DESC";
  order += ", e.experiment_id ASC";
  return Read([&](Connection& db) {
    auto st = db.Prepare("SELECT e.experiment_id FROM experiments e WHERE " + where.sql +
                             " ORDER BY " + order + " LIMIT ? OFFSET ?",
                         false);
    SqlBuilder all = where;
    all.binds.emplace_back(request.max_results + 1);
    all.binds.emplace_back(offset);
    all.Bind(st);
    std::vector<int64_t> ids;
    while (st.Step()) ids.push_back(st.Int64(0));
    Page<Experiment> page;
    if (static_cast<int64_t>(ids.size()) > request.max_results) {
      ids.pop_back();
      page.next_page_token = detail::EncodePageToken(offset + request.max_results);
    }
    for (int64_t id : ids) page.items.push_back(detail::LoadExperiment(db, id));
    return page;
  });
}

}  // namespace eonops::tracking
