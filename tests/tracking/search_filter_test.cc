#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include "tracking/errors.h"

namespace eonops::tracking {
namespace {

TEST(SearchFilterTest, EmptyFilterHasNoClauses) {
  EXPECT_TRUE(ParseFilter("").empty());
  EXPECT_TRUE(ParseFilter("   ").empty());
}

TEST(SearchFilterTest, ParsesEntitiesComparatorsAndValues) {
  auto c = ParseFilter(
      "metrics.loss < 0.1 AND params.lr = '3e-4' and tags.mlflow.runName != \"ppo\" AND "
      "attributes.status = 'FINISHED' AND metric.reward>=-2.5e3");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].entity, FilterEntity::kMetric);
  EXPECT_EQ(c[0].key, "loss");
  EXPECT_EQ(c[0].op, Comparator::kLt);
  EXPECT_TRUE(c[0].value.is_number);
  EXPECT_DOUBLE_EQ(c[0].value.number, 0.1);
  EXPECT_EQ(c[1].entity, FilterEntity::kParam);
  EXPECT_EQ(c[1].value.text, "3e-4");
  EXPECT_FALSE(c[1].value.is_number);  // quoted: a string even if it looks like a number
  EXPECT_EQ(c[2].entity, FilterEntity::kTag);
  EXPECT_EQ(c[2].key, "mlflow.runName");  // dots after the entity belong to the key
  EXPECT_EQ(c[2].op, Comparator::kNe);
  EXPECT_EQ(c[2].value.text, "ppo");
  EXPECT_EQ(c[3].entity, FilterEntity::kAttribute);
  EXPECT_EQ(c[3].key, "status");
  EXPECT_EQ(c[4].op, Comparator::kGe);
  EXPECT_DOUBLE_EQ(c[4].value.number, -2500);
}

TEST(SearchFilterTest, QuotedKeysLikeAndInLists) {
  auto c = ParseFilter(
      "metrics.`blocking@load=250` <= 0.05 AND run_name LIKE 'ppo-%' AND "
      "attributes.run_id IN ('a1', 'b2') AND tags.t ILIKE '%X%' AND status NOT IN ('FAILED')");
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].key, "blocking@load=250");
  EXPECT_EQ(c[1].entity, FilterEntity::kAttribute);
  EXPECT_EQ(c[1].op, Comparator::kLike);
  EXPECT_EQ(c[2].op, Comparator::kIn);
  EXPECT_EQ(c[2].value.list, (std::vector<std::string>{"a1", "b2"}));
  EXPECT_EQ(c[3].op, Comparator::kILike);
  EXPECT_EQ(c[4].op, Comparator::kNotIn);
}

TEST(SearchFilterTest, EscapedQuotesInStrings) {
  auto c = ParseFilter("tags.note = 'it''s' AND tags.b = 'a\\'b'");
  EXPECT_EQ(c[0].value.text, "it's");
  EXPECT_EQ(c[1].value.text, "a'b");
}

TEST(SearchFilterTest, RejectsMalformedFiltersWithInvalidParameterValue) {
  for (const char* bad :
       {"metrics.loss", "metrics.loss <", "metrics.loss < abc", "params.x = 'unterminated",
        "metrics.a < 1 OR metrics.b < 2", "metrics.a < 1 metrics.b < 2", "params.x ~ 'y'",
        "status IN 'x'", "metrics. < 1", "metrics.a < 1e999"}) {
    try {
      ParseFilter(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const TrackingError& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidParameterValue) << bad;
      EXPECT_NE(std::string(e.what()).find("position"), std::string::npos) << e.what();
    }
  }
}

TEST(SearchFilterTest, ParsesOrderBy) {
  OrderByClause a = ParseOrderBy("metrics.reward DESC");
  EXPECT_EQ(a.entity, FilterEntity::kMetric);
  EXPECT_EQ(a.key, "reward");
  EXPECT_FALSE(a.ascending);
  OrderByClause b = ParseOrderBy("start_time");
  EXPECT_EQ(b.entity, FilterEntity::kAttribute);
  EXPECT_TRUE(b.ascending);
  OrderByClause c = ParseOrderBy("params.`weird key` asc");
  EXPECT_EQ(c.key, "weird key");
  EXPECT_THROW(ParseOrderBy("metrics.x sideways"), TrackingError);
  EXPECT_THROW(ParseOrderBy(""), TrackingError);
}

}  // namespace
}  // namespace eonops::tracking
