#include "tracking/search_filter.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "tracking/errors.h"

namespace eonops::tracking {
namespace {

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '/' || c == ':' || c == '@';
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::vector<FilterClause> Filter() {
    std::vector<FilterClause> clauses;
    SkipSpace();
    if (AtEnd()) return clauses;
    while (true) {
      clauses.push_back(Clause());
      SkipSpace();
      if (AtEnd()) break;
      std::string word = Upper(Word());
      if (word == "OR") Fail("OR is not supported; combine conditions with AND");
      if (word != "AND") Fail("expected AND between conditions");
    }
    return clauses;
  }

  OrderByClause OrderBy() {
    SkipSpace();
    OrderByClause o;
    auto [entity, key] = Identifier();
    o.entity = entity;
    o.key = key;
    SkipSpace();
    if (!AtEnd()) {
      std::string dir = Upper(Word());
      if (dir == "DESC") {
        o.ascending = false;
      } else if (dir != "ASC") {
        Fail("expected ASC or DESC");
      }
      SkipSpace();
      if (!AtEnd()) Fail("unexpected text after the sort direction");
    }
    return o;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw TrackingError(ErrorCode::kInvalidParameterValue, "invalid search expression '" +
                                                               std::string(s_) + "' at position " +
                                                               std::to_string(pos_) + ": " + what);
  }

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  // A run of letters (keywords AND, LIKE, ...).
  std::string Word() {
    size_t start = pos_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (start == pos_) Fail("expected a keyword");
    return std::string(s_.substr(start, pos_ - start));
  }

  std::string Quoted() {
    char quote = s_[pos_++];
    std::string out;
    while (true) {
      if (AtEnd()) Fail("unterminated quoted text");
      char c = s_[pos_++];
      if (c == '\\' && !AtEnd()) {
        out.push_back(s_[pos_++]);
      } else if (c == quote) {
        if (Peek() == quote && quote == '\'') {  // SQL-style doubled quote
          out.push_back(quote);
          ++pos_;
        } else {
          return out;
        }
      } else {
        out.push_back(c);
      }
    }
  }

  std::pair<FilterEntity, std::string> Identifier() {
    std::string head;
    if (Peek() == '`' || Peek() == '"') {
      return {FilterEntity::kAttribute, Quoted()};
    }
    size_t start = pos_;
    while (!AtEnd() && IsKeyChar(s_[pos_])) ++pos_;
    head = std::string(s_.substr(start, pos_ - start));
    if (head.empty()) Fail("expected an identifier such as metrics.loss or params.lr");
    FilterEntity entity = FilterEntity::kAttribute;
    std::string key = head;
    size_t dot = head.find('.');
    bool has_entity = false;
    if (dot != std::string::npos) {
      std::string prefix = Upper(head.substr(0, dot));
      if (prefix == "METRICS" || prefix == "METRIC") {
        entity = FilterEntity::kMetric;
        has_entity = true;
      } else if (prefix == "PARAMS" || prefix == "PARAM" || prefix == "PARAMETERS") {
        entity = FilterEntity::kParam;
        has_entity = true;
      } else if (prefix == "TAGS" || prefix == "TAG") {
        entity = FilterEntity::kTag;
        has_entity = true;
      } else if (prefix == "ATTRIBUTES" || prefix == "ATTRIBUTE" || prefix == "ATTR" ||
                 prefix == "RUN") {
        entity = FilterEntity::kAttribute;
        has_entity = true;
      }
      if (has_entity) key = head.substr(dot + 1);
    }
    if (has_entity && key.empty()) {
      if (Peek() != '`' && Peek() != '"') Fail("expected a key after '" + head + "'");
      key = Quoted();
    }
    if (key.empty()) Fail("empty key");
    return {entity, key};
  }

  Comparator Op() {
    SkipSpace();
    char c = Peek();
    auto take = [&](size_t n, Comparator op) {
      pos_ += n;
      return op;
    };
    if (c == '=') return take(Peek2() == '=' ? 2 : 1, Comparator::kEq);
    if (c == '!' && Peek2() == '=') return take(2, Comparator::kNe);
    if (c == '<' && Peek2() == '>') return take(2, Comparator::kNe);
    if (c == '<' && Peek2() == '=') return take(2, Comparator::kLe);
    if (c == '<') return take(1, Comparator::kLt);
    if (c == '>' && Peek2() == '=') return take(2, Comparator::kGe);
    if (c == '>') return take(1, Comparator::kGt);
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::string w = Upper(Word());
      if (w == "LIKE") return Comparator::kLike;
      if (w == "ILIKE") return Comparator::kILike;
      if (w == "IN") return Comparator::kIn;
      if (w == "NOT") {
        SkipSpace();
        if (Upper(Word()) == "IN") return Comparator::kNotIn;
        Fail("expected IN after NOT");
      }
      Fail("unknown comparator '" + w + "'");
    }
    Fail("expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)");
  }

  char Peek2() const { return pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0'; }

  FilterValue Value(Comparator op) {
    SkipSpace();
    FilterValue v;
    if (op == Comparator::kIn || op == Comparator::kNotIn) {
      if (Peek() != '(') Fail("expected a parenthesised list after IN");
      ++pos_;
      v.is_list = true;
      while (true) {
        SkipSpace();
        if (Peek() != '\'' && Peek() != '"') Fail("expected a quoted string in the IN list");
        v.list.push_back(Quoted());
        SkipSpace();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        if (Peek() == ')') {
          ++pos_;
          break;
        }
        Fail("expected ',' or ')' in the IN list");
      }
      return v;
    }
    if (Peek() == '\'' || Peek() == '"') {
      v.text = Quoted();
      return v;
    }
    size_t start = pos_;
    while (!AtEnd() && !std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    v.text = std::string(s_.substr(start, pos_ - start));
    if (v.text.empty()) Fail("expected a value");
    errno = 0;
    char* end = nullptr;
    v.number = std::strtod(v.text.c_str(), &end);
    if (end != v.text.c_str() + v.text.size() || errno == ERANGE || !std::isfinite(v.number))
      Fail("expected a number or a quoted string, got '" + v.text + "'");
    v.is_number = true;
    return v;
  }

  FilterClause Clause() {
    SkipSpace();
    FilterClause c;
    auto [entity, key] = Identifier();
    c.entity = entity;
    c.key = std::move(key);
    c.op = Op();
    c.value = Value(c.op);
    return c;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<FilterClause> ParseFilter(std::string_view filter) { return Parser(filter).Filter(); }

OrderByClause ParseOrderBy(std::string_view order_by) { return Parser(order_by).OrderBy(); }

const char* ComparatorText(Comparator op) {
  switch (op) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
  }
  return "=";
}

const char* EntityText(FilterEntity entity) {
  switch (entity) {
    case FilterEntity::kAttribute:
      return "attributes";
    case FilterEntity::kMetric:
      return "metrics";
    case FilterEntity::kParam:
      return "params";
    case FilterEntity::kTag:
      return "tags";
  }
  return "attributes";
}

}  // namespace eonops::tracking
