// proto/rpc.h and the model references of proto/policy_source.h: what the command-line flags
// accept and how they are refused.
#include "proto/rpc.h"

#include <gtest/gtest.h>

#include "proto/policy_source.h"

namespace eonops::proto {
namespace {

TEST(Endpoints, ParseHostPortListsAndTheGrpcScheme) {
  EXPECT_EQ(ParseEndpoint("127.0.0.1:50051"), "127.0.0.1:50051");
  EXPECT_EQ(ParseEndpoint("grpc://twin-0.twin:50051/"), "twin-0.twin:50051");
  EXPECT_EQ(ParseEndpoint("[::1]:50052"), "[::1]:50052");
  EXPECT_EQ(ParseEndpoints("h1:1,h2:65535"), (std::vector<std::string>{"h1:1", "h2:65535"}));
  for (const char* bad :
       {"host", ":50051", "host:", "host:0", "host:70000", "host:5x", "::1:50051", "[::1]50051"}) {
    EXPECT_THROW(ParseEndpoint(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(ParseEndpoints("h1:1,,h2:2"), std::invalid_argument);
  EXPECT_THROW(ParseEndpoints(""), std::invalid_argument);
}

TEST(Endpoints, RpcErrorNamesRoleEndpointMethodAndStatus) {
  RpcError e("twin worker", "h2:50051", "Step", 14, "Socket closed");
  EXPECT_STREQ(e.what(), "twin worker h2:50051: Step: UNAVAILABLE: Socket closed");
  EXPECT_EQ(e.endpoint(), "h2:50051");
  EXPECT_STREQ(StatusCodeName(4), "DEADLINE_EXCEEDED");
}

TEST(ModelRefs, NameAliasOrVersion) {
  ModelRef r = ParseModelRef("rmsa-nsfnet");
  EXPECT_EQ(r.name, "rmsa-nsfnet");
  EXPECT_EQ(r.alias, "champion");
  EXPECT_EQ(r.version, 0);
  r = ParseModelRef("rmsa-nsfnet@challenger");
  EXPECT_EQ(r.alias, "challenger");
  EXPECT_EQ(ParseModelRef("rmsa-nsfnet@v3").version, 3);
  EXPECT_EQ(ParseModelRef("team/rmsa/12").name, "team/rmsa");
  EXPECT_EQ(ParseModelRef("team/rmsa/12").version, 12);
  for (const char* bad : {"", "@champion", "m@", "m@v0", "m/0"}) {
    EXPECT_THROW(ParseModelRef(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace eonops::proto
