// Pins tapi/codec.h and tapi/errors.h: both TAPI spellings parse to the same request, leniency
// where controllers differ, precise errors where the input is wrong.
#include "tapi/codec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tapi/errors.h"
#include "tests/pce/pce_test_util.h"

namespace eonops::tapi {
namespace {

const pce::TeDatabase& Ted() {
  static auto model =
      std::make_shared<const twin::NetworkModel>(pce::testing::SmallConfig().network);
  static pce::TeDatabase ted(model);
  return ted;
}

TEST(ErrorsTest, EachCodeHasItsStatusTagAndBody) {
  HttpError e = ToHttpError(ErrorCode::kResourceDenied, "no feasible lightpath", "/x", {{"k", 1}});
  EXPECT_EQ(e.status, 409);
  const Json& err = e.body["ietf-restconf:errors"]["error"][0];
  EXPECT_EQ(err["error-type"], "application");
  EXPECT_EQ(err["error-tag"], "resource-denied");
  EXPECT_EQ(err["error-path"], "/x");
  EXPECT_EQ(err["error-message"], "no feasible lightpath");
  EXPECT_EQ(err["error-info"]["k"], 1);
  EXPECT_EQ(HttpStatus(ErrorCode::kMalformedMessage), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnknownResource), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kAccessDeniedNoToken), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kAccessDeniedBadToken), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kDataExists), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kTooBig), 413);
  EXPECT_EQ(HttpStatus(ErrorCode::kOperationFailed), 500);
  EXPECT_FALSE(ToHttpError(ErrorCode::kInvalidValue, "m")
                   .body["ietf-restconf:errors"]["error"][0]
                   .contains("error-path"));
}

TEST(CodecTest, Tapi21And24SpellingsParseToTheSameRequest) {
  const auto& ted = Ted();
  const Json v21 = {
      {"sep",
       {{{"local-id", "1"},
         {"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(0)}}},
         {"direction", "INPUT"},
         {"capacity", {{"total-size", {{"value", 400}, {"unit", "GBPS"}}}}}},
        {{"local-id", "2"},
         {"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(7)}}},
         {"direction", "OUTPUT"}}}},
      {"routing-constraint", {{"max-allowed-delay", {{"value", 20000}}}}},
      {"topology-constraint",
       {{"exclude-link", {ted.LinkUuid(3)}},
        {"include-node", {ted.NodeUuid(5)}},
        {"avoid-topology", Json::array()}}},
      {"objective-function", {{"name", {{{"value-name", "use-case"}, {"value", "latency-rsa"}}}}}}};
  // 2.4: end-point, SOURCE/SINK, identities, string uint64s, keyed constraints in a list; the
  // end-points in the other order.
  const Json v24 = {
      {"end-point",
       {{{"local-id", "2"},
         {"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(7)}}},
         {"direction", "tapi-common:PORT_DIRECTION_SINK"}},
        {{"local-id", "1"},
         {"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(0)}}},
         {"direction", "SOURCE"},
         {"capacity",
          {{"total-size", {{"value", "0.4"}, {"unit", "tapi-common:CAPACITY_UNIT_TBPS"}}}}}}}},
      {"routing-constraint",
       {{"max-allowed-delay", {{"value", "20000"}}},
        {"route-objective-function",
         "tapi-path-computation:ROUTE_OBJECTIVE_FUNCTION_MIN_WORK_ROUTE_LATENCY"}}},
      {"topology-constraint",
       {{{"local-id", "a"},
         {"exclude-link",
          {{{"topology-uuid", ted.TopologyUuid()}, {"link-uuid", ted.LinkUuid(3)}}}},
         {"include-node",
          {{{"topology-uuid", ted.TopologyUuid()}, {"node-uuid", ted.NodeUuid(5)}}}}}}},
      {"unknown-leaf", {1, 2, 3}}};
  ParsedRequest a = ParseComputeInput(v21, ted, "/rpc"), b = ParseComputeInput(v24, ted, "/rpc");
  EXPECT_EQ(a.request.ToJson(), b.request.ToJson());
  EXPECT_EQ(a.request.src, 0);
  EXPECT_EQ(a.request.dst, 7);
  EXPECT_DOUBLE_EQ(a.request.bit_rate_gbps, 400);
  EXPECT_DOUBLE_EQ(a.request.latency_bound_us, 20000);
  EXPECT_EQ(a.request.exclude_links, std::vector<int>{3});
  EXPECT_EQ(a.request.include_nodes, std::vector<int>{5});
  EXPECT_EQ(a.request.use_case, twin::UseCase::kLatencyRsa);
  EXPECT_TRUE(a.dialect_known);
  EXPECT_EQ(a.dialect, Dialect::kV21);
  EXPECT_EQ(b.dialect, Dialect::kV24);
}

TEST(CodecTest, ServicesAcceptSpectrumNamesAndBothCapacityPlaces) {
  const auto& ted = Ted();
  const twin::BandPlan& plan = ted.model().plan();
  const twin::FlexGridChannel ch = plan.SlotsToGrid(0, 8, 4);
  Json svc = {{"uuid", "svc-7"},
              {"name", {{{"value-name", "n"}, {"value", "v"}}}},
              {"end-point",
               {{{"service-interface-point",
                  {{"service-interface-point-uuid", ted.NodeName(1)}}},  // a node name
                 {"tapi-photonic-media:media-channel-connectivity-service-end-point-spec",
                  {{"mc-config",
                    {{"spectrum",
                      {{"lower-frequency", std::llround(ch.lower_hz / 1e6)},
                       {"upper-frequency", std::llround(ch.upper_hz / 1e6)},
                       {"frequency-constraint",
                        {{"grid-type", "FLEX"}, {"adjustment-granularity", "G_6_25GHZ"}}}}}}}}}},
                {{"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(9)}}}}}},
              {"requested-capacity", {{"total-size", {{"value", 100}}}}}};
  ParsedService p = ParseConnectivityService(svc, ted, "/svc");
  EXPECT_EQ(p.spec.uuid, "svc-7");
  EXPECT_EQ(p.spec.name[0]["value"], "v");
  EXPECT_EQ(p.spec.request.src, 1);
  ASSERT_TRUE(p.spec.request.spectrum);
  EXPECT_EQ(p.spec.request.spectrum->slot, 8);
  EXPECT_EQ(p.spec.request.spectrum->width, 4);
  EXPECT_DOUBLE_EQ(p.spec.request.bit_rate_gbps, 100);
}

TEST(CodecTest, BadInputsNameTheMemberAndTheReason) {
  const auto& ted = Ted();
  auto expect = [&](const Json& in, ErrorCode code, const std::string& path_part,
                    const std::string& msg_part) {
    try {
      ParseComputeInput(in, ted, "/tapi-path-computation:compute-p-2-p-path");
      ADD_FAILURE() << "accepted " << in.dump();
    } catch (const TapiError& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(e.path().find(path_part), std::string::npos) << e.path();
      EXPECT_NE(std::string(e.what()).find(msg_part), std::string::npos) << e.what();
    }
  };
  auto ep = [&](int node) {
    return Json{{"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(node)}}}};
  };
  Json cap = {{"total-size", {{"value", 100}}}};
  Json a = ep(0);
  a["capacity"] = cap;
  expect({{"end-point", {a}}}, ErrorCode::kInvalidValue, "/input/end-point",
         "exactly two end-points");
  expect({{"end-point", {a, ep(0)}}}, ErrorCode::kInvalidValue, "/input/end-point", "same node");
  Json no_value = a;
  no_value["capacity"]["total-size"] = {{"unit", "GBPS"}};
  expect({{"end-point", {no_value, ep(3)}}}, ErrorCode::kMissingElement,
         "end-point[0]/capacity/total-size/value", "value");
  Json bytes = a;
  bytes["capacity"]["total-size"]["unit"] = "TB";
  expect({{"end-point", {bytes, ep(3)}}}, ErrorCode::kInvalidValue, "unit", "amount of data");
  Json ghz = ep(3);
  ghz["capacity"] = {{"total-size", {{"value", 50}, {"unit", "GHz"}}}};
  expect({{"end-point", {a, ghz}}}, ErrorCode::kInvalidValue, "end-point", "disagree");
  Json bad_unit = a;
  bad_unit["capacity"]["total-size"]["unit"] = "FURLONGS";
  expect({{"end-point", {bad_unit, ep(3)}}}, ErrorCode::kInvalidValue,
         "end-point[0]/capacity/total-size/unit", "FURLONGS");
  Json neg = a;
  neg["capacity"]["total-size"]["value"] = -5;
  expect({{"end-point", {neg, ep(3)}}}, ErrorCode::kInvalidValue, "value", "positive");
  Json str = a;
  str["capacity"]["total-size"]["value"] = "ten";
  expect({{"end-point", {str, ep(3)}}}, ErrorCode::kInvalidValue, "value", "expected a number");
  expect({{"end-point", {a, ep(3)}}, {"topology-constraint", {{"exclude-link", {"no-such-link"}}}}},
         ErrorCode::kInvalidValue, "topology-constraint/exclude-link", "unknown link");
  expect({{"end-point", {a, ep(3)}}, {"topology-constraint", {{"include-path", {"p"}}}}},
         ErrorCode::kInvalidValue, "include-path", "not supported");
  expect({{"end-point", {a, ep(3)}}, {"layer-protocol-name", "ETH"}}, ErrorCode::kInvalidValue,
         "layer-protocol-name", "PHOTONIC_MEDIA");
  expect({{"end-point", {a, ep(3)}}, {"eonops-pce:use-case", "teleportation"}},
         ErrorCode::kInvalidValue, "use-case", "use case");
  expect({{"end-point", "nope"}}, ErrorCode::kInvalidValue, "end-point", "");
  Json dir = ep(3);
  dir["direction"] = "SIDEWAYS";
  expect({{"end-point", {a, dir}}}, ErrorCode::kInvalidValue, "end-point[1]/direction", "SIDEWAYS");
  // Frequencies far outside any band are refused before any arithmetic on them (5e18 + 5e18
  // MHz overflowed int64: undefined behaviour, reported by UBSan).
  for (const auto& [lower, upper] : {std::pair<double, double>{5e18, 5.000000000000012288e18},
                                     {-9e18, 9e18},
                                     {0, 12500},
                                     {1e15, 1e15 + 12500}}) {
    Json far = a;
    far["media-channel-connectivity-service-end-point-spec"]["mc-config"]["spectrum"] = {
        {"lower-frequency", lower}, {"upper-frequency", upper}};
    expect({{"end-point", {far, ep(3)}}}, ErrorCode::kInvalidValue, "mc-config/spectrum",
           "between 100 and 1000 THz");
  }
}

// TAPI's capacity-unit has bit rates and frequencies: GHz/MHz ask for that much spectrum (a media
// channel, as TeraFlowSDN's TAPI driver sends by default), and no capacity at all (absent or an
// empty container, as Nextworks' client sends) leaves both zero for the PCE's default.
TEST(CodecTest, CapacityInGhzIsSpectrumAndEmptyContainersAreNoCapacity) {
  const auto& ted = Ted();
  auto ep = [&](int node, Json capacity) {
    Json e = {{"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(node)}}}};
    if (!capacity.is_null()) e["capacity"] = capacity;
    return e;
  };
  auto parse = [&](const Json& cap) {
    return ParseComputeInput({{"end-point", {ep(0, cap), ep(3, cap)}}}, ted, "/c").request;
  };
  pce::PathRequest ghz = parse({{"total-size", {{"value", 50.0}, {"unit", "GHz"}}}});
  EXPECT_DOUBLE_EQ(ghz.spectrum_width_hz, 50e9);
  EXPECT_EQ(ghz.bit_rate_gbps, 0);
  pce::PathRequest mhz =
      parse({{"total-size", {{"value", "37500"}, {"unit", "tapi-common:CAPACITY_UNIT_MHZ"}}}});
  EXPECT_DOUBLE_EQ(mhz.spectrum_width_hz, 37.5e9);
  pce::PathRequest tbps = parse({{"total-size", {{"value", 0.4}, {"unit", "TBPS"}}}});
  EXPECT_DOUBLE_EQ(tbps.bit_rate_gbps, 400);
  for (const Json& empty : {Json(nullptr), Json::object(), Json{{"total-size", Json::object()}}}) {
    pce::PathRequest r = parse(empty);
    EXPECT_EQ(r.bit_rate_gbps, 0) << empty.dump();
    EXPECT_EQ(r.spectrum_width_hz, 0) << empty.dump();
  }
  // Empty constraint containers are no constraints.
  ParsedRequest p =
      ParseComputeInput({{"end-point", {ep(0, Json::object()), ep(3, Json::object())}},
                         {"routing-constraint", Json::object()},
                         {"topology-constraint", Json::object()},
                         {"objective-function", Json::object()}},
                        ted, "/c");
  EXPECT_FALSE(p.request.HasTopologyConstraints());
  EXPECT_FALSE(std::isfinite(p.request.latency_bound_us));
  ParsedRequest l =
      ParseComputeInput({{"end-point", {ep(0, Json::object()), ep(3, Json::object())}},
                         {"topology-constraint", Json::array()}},
                        ted, "/c");
  EXPECT_FALSE(l.request.HasTopologyConstraints());
  // A bidirectional service is one request with both directions.
  ParsedService svc = ParseConnectivityService(
      {{"end-point", {ep(0, nullptr), ep(3, nullptr)}},
       {"connectivity-constraint", {{"connectivity-direction", "BIDIRECTIONAL"}}}},
      ted, "/s");
  EXPECT_TRUE(svc.spec.request.bidirectional);
  EXPECT_EQ(svc.spec.request.bit_rate_gbps, 0);
  ParsedService empty = ParseConnectivityService(
      {{"end-point", {ep(0, Json::object()), ep(3, nullptr)}},
       {"connectivity-constraint", {{"requested-capacity", Json::object()}}},
       {"routing-constraint", Json::object()},
       {"topology-constraint", Json::object()}},
      ted, "/s");
  EXPECT_EQ(empty.spec.request.bit_rate_gbps, 0);
  EXPECT_FALSE(empty.spec.request.HasTopologyConstraints());
  EXPECT_NO_THROW(ParseConnectivityService({{"end-point", {ep(0, nullptr), ep(3, nullptr)}},
                                            {"connectivity-constraint", Json::object()}},
                                           ted, "/s"));
}

TEST(CodecTest, RpcInputAndIdsInEitherSpelling) {
  EXPECT_EQ(RpcInput({{"tapi-connectivity:input", {{"a", 1}}}}, "/p", false)["a"], 1);
  EXPECT_EQ(RpcInput({{"input", {{"a", 2}}}}, "/p", false)["a"], 2);
  EXPECT_TRUE(RpcInput(nullptr, "/p", true).empty());
  EXPECT_THROW(RpcInput({{"inptu", 1}}, "/p", false), TapiError);
  Dialect d;
  EXPECT_EQ(IdFromInput({{"service-id-or-name", "x"}}, "/p", &d), "x");
  EXPECT_EQ(d, Dialect::kV21);
  EXPECT_EQ(IdFromInput({{"uuid", "y"}}, "/p", &d), "y");
  EXPECT_EQ(d, Dialect::kV24);
  EXPECT_THROW(IdFromInput(Json::object(), "/p", &d), TapiError);
  EXPECT_EQ(ParseDialect("2.4.1"), Dialect::kV24);
  EXPECT_THROW(ParseDialect("3.0"), TapiError);
}

}  // namespace
}  // namespace eonops::tapi
