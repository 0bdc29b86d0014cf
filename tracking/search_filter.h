// Parser for MLflow's search filter and order_by strings.
//
// Grammar (the subset of MLflow's SQL-like syntax that the store supports):
//   filter  := clause ( AND clause )*
//   clause  := ident comparator value
//   ident   := [entity "."] key        entity: metrics|metric|params|param|tags|tag|
//                                               attributes|attribute|attr|run
//   key     := [A-Za-z0-9_.-/:@]+ | `any text` | "any text"
//   value   := 'string' | "string" | number | ( 'a', 'b', ... )
//   comparator := = | != | <> | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
// An identifier without a known entity prefix is an attribute (`status`, `name`, ...).
// Keys containing '=' or spaces need backticks: metrics.`blocking@load=250` < 0.05.
//
//   auto clauses = ParseFilter("metrics.loss < 0.1 AND params.lr = '3e-4'");
//   clauses[0].entity == FilterEntity::kMetric; clauses[0].value.number == 0.1;
//   OrderByClause o = ParseOrderBy("metrics.reward DESC");
//
// Errors throw TrackingError(kInvalidParameterValue) saying where the string went wrong; which
// entities, keys and comparators make sense is up to each search, which validates the clauses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eonops::tracking {

enum class FilterEntity { kAttribute, kMetric, kParam, kTag };
enum class Comparator { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn };

struct FilterValue {
  bool is_number = false;
  bool is_list = false;
  double number = 0.0;
  std::string text;               // for strings (and the literal text of numbers)
  std::vector<std::string> list;  // for IN / NOT IN
};

struct FilterClause {
  FilterEntity entity = FilterEntity::kAttribute;
  std::string key;
  Comparator op = Comparator::kEq;
  FilterValue value;
};

struct OrderByClause {
  FilterEntity entity = FilterEntity::kAttribute;
  std::string key;
  bool ascending = true;
};

std::vector<FilterClause> ParseFilter(std::string_view filter);
OrderByClause ParseOrderBy(std::string_view order_by);

const char* ComparatorText(Comparator op);    // "=", "LIKE", "NOT IN", ...
const char* EntityText(FilterEntity entity);  // "metrics", ...

}  // namespace eonops::tracking
