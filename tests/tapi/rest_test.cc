// Pins tapi/server.h end to end on loopback: every path variant, the TAPI 2.1 and 2.4
// spellings, path computation and connectivity services as RPCs and on the data store, RFC
// 8040 errors and statuses, bearer-token auth, metrics.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/tapi/tapi_test_util.h"

namespace eonops::tapi {
namespace {

using testing::ComputeInput21;
using testing::Error;
using testing::Json;
using testing::kCompute;
using testing::kConnectivity;
using testing::kContext;
using testing::Reply;
using testing::Server;
using testing::ServiceBody;
using testing::TempDir;

// The "tapi" section of the PCE config: integers beyond int are refused, not wrapped.
TEST(TapiServerOptionsTest, OutOfRangeThreadsAreRefusedNotWrapped) {
  pce::PceConfig c = pce::testing::SmallConfig();
  c.tapi = {{"threads", 8}};
  EXPECT_EQ(TapiServerOptions::FromConfig(c).threads, 8);
  for (const Json& bad : {Json(4294967300ull), Json(-4294967288ll), Json(0), Json(1025)}) {
    c.tapi = {{"threads", bad}};
    EXPECT_THROW(TapiServerOptions::FromConfig(c), std::runtime_error) << bad;
  }
}

class RestTest : public ::testing::Test {
 protected:
  Server s_;
  std::string Sip(int node) { return s_.pce().ted().SipUuid(node); }
};

void ExpectOnFlexGrid(const Json& band) {
  const int64_t lo = band.at("lower-frequency").get<int64_t>(),
                hi = band.at("upper-frequency").get<int64_t>();
  EXPECT_EQ((hi - lo) % 12500, 0) << band.dump();
  EXPECT_EQ((lo + hi - 2 * 193100000LL) % 12500, 0)
      << "centre on 193.1 THz + n x 6.25 GHz: " << band.dump();
}

TEST_F(RestTest, ContextHasSipsWithMcPoolsTopologyNodesEdgePointsAndLinks) {
  Reply r = s_.Get(kContext);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.content_type, "application/yang-data+json");
  const Json& ctx = r.body.at("tapi-common:context");
  EXPECT_TRUE(pce::IsUuid(ctx.at("uuid").get<std::string>()));
  const Json& sips = ctx.at("service-interface-point");
  ASSERT_EQ(sips.size(), 14u);
  const Json& pool =
      sips[0].at("tapi-photonic-media:media-channel-service-interface-point-spec").at("mc-pool");
  ASSERT_EQ(pool.at("supportable-spectrum").size(), 1u);  // the C band
  const Json& c = pool["supportable-spectrum"][0];
  EXPECT_EQ(c.at("lower-frequency"), 191300000);
  EXPECT_EQ(c.at("upper-frequency"), 191300000 + 40 * 12500);  // 40 slots of 12.5 GHz
  EXPECT_EQ(c.at("frequency-constraint").at("adjustment-granularity"), "G_6_25GHZ");
  EXPECT_EQ(c.at("frequency-constraint").at("grid-type"), "FLEX");
  EXPECT_EQ(pool.at("available-spectrum"), pool.at("supportable-spectrum")) << "an empty network";
  EXPECT_TRUE(pool.at("occupied-spectrum").empty());
  const Json& topo = ctx.at("tapi-topology:topology-context").at("topology").at(0);
  ASSERT_EQ(topo.at("node").size(), 14u);
  ASSERT_EQ(topo.at("link").size(), 44u);
  const Json& node = topo["node"][0];
  // add/drop + one edge point per fibre end at the node
  const int degree = s_.pce().model().topology().Degree(0);
  EXPECT_EQ(node.at("owned-node-edge-point").size(), size_t(1 + 2 * degree));
  const Json& link = topo["link"][0];
  EXPECT_EQ(link.at("direction"), "UNIDIRECTIONAL");
  EXPECT_EQ(link.at("node-edge-point").size(), 2u);
  EXPECT_TRUE(ctx.at("tapi-connectivity:connectivity-context").at("connectivity-service").empty());
  EXPECT_TRUE(ctx.at("tapi-path-computation:path-computation-context").at("path").empty());
}

TEST_F(RestTest, EveryPathWorksWithAndWithoutRestconfAndTrailingSlash) {
  const std::string sip = Sip(3), node = s_.pce().ted().NodeUuid(3),
                    link = s_.pce().ted().LinkUuid(5);
  const std::string topo = s_.pce().ted().TopologyUuid(), nep = s_.pce().ted().FibreOutNepUuid(5);
  const int nep_node = s_.pce().model().topology().fibre(5).src;
  const std::string tc =
      "/data/tapi-common:context/tapi-topology:topology-context/topology=" + topo;
  const std::vector<std::pair<std::string, std::string>> resources = {
      {"/data/tapi-common:context", "tapi-common:context"},
      {"/data/tapi-common:context/service-interface-point", "tapi-common:service-interface-point"},
      {"/data/tapi-common:context/service-interface-point=" + sip,
       "tapi-common:service-interface-point"},
      {"/data/tapi-common:context/tapi-topology:topology-context",
       "tapi-topology:topology-context"},
      {tc, "tapi-topology:topology"},
      {tc + "/node=" + node, "tapi-topology:node"},
      {tc + "/node=" + s_.pce().ted().NodeUuid(nep_node) + "/owned-node-edge-point=" + nep,
       "tapi-topology:owned-node-edge-point"},
      {tc + "/link=" + link, "tapi-topology:link"},
      {"/data/tapi-common:context/tapi-connectivity:connectivity-context",
       "tapi-connectivity:connectivity-context"},
      {"/data/tapi-common:context/tapi-path-computation:path-computation-context",
       "tapi-path-computation:path-computation-context"},
      // RFC 7951 prefixes are optional on nested segments.
      {"/data/context/topology-context/topology=" + topo + "/link=" + link, "tapi-topology:link"},
  };
  for (const auto& [path, key] : resources) {
    Json first;
    for (const std::string& variant :
         {"/restconf" + path, "/restconf" + path + "/", path, path + "/"}) {
      Reply r = s_.Get(variant);
      ASSERT_EQ(r.status, 200) << variant << ": " << r.text.substr(0, 300);
      ASSERT_TRUE(r.body.contains(key)) << variant;
      if (first.is_null()) first = r.body;
      EXPECT_EQ(r.body, first) << variant;
    }
  }
  Reply one = s_.Get(std::string(kContext) + "/service-interface-point=" + sip);
  ASSERT_EQ(one.body["tapi-common:service-interface-point"].size(), 1u);
  EXPECT_EQ(one.body["tapi-common:service-interface-point"][0]["uuid"], sip);
  for (const char* rpc : {"/restconf/operations/tapi-path-computation:compute-p-2-p-path",
                          "/restconf/operations/tapi-path-computation:compute-p-2-p-path/",
                          "/operations/tapi-path-computation:compute-p-2-p-path",
                          "/operations/compute-p-2-p-path/"}) {
    Reply r = s_.Post(rpc, ComputeInput21(Sip(0), Sip(9), 100));
    EXPECT_EQ(r.status, 200) << rpc << ": " << r.text.substr(0, 300);
  }
  EXPECT_EQ(s_.Get("/restconf").status, 200);
  EXPECT_EQ(s_.Get("/.well-known/host-meta").status, 200);
}

TEST_F(RestTest, ComputedPathIsReadableUntilDeletedAndCarriesTheLightpath) {
  Reply r = s_.Post(kCompute, ComputeInput21(Sip(0), Sip(13), 100));
  ASSERT_EQ(r.status, 200) << r.text;
  const Json& svc = r.body.at("tapi-path-computation:output").at("service");
  const std::string path_uuid = svc.at("path").at(0).at("path-uuid");
  const Json& lp = svc.at("eonops-pce:lightpath");
  for (const char* k :
       {"route", "band", "modulation", "spectrum", "gsnr-db", "margin-db", "latency-us",
        "incremental-power-w", "policy-version", "fell-back", "decided-by"}) {
    EXPECT_TRUE(lp.contains(k)) << k;
  }
  EXPECT_EQ(lp["band"], "C");
  EXPECT_EQ(lp["policy-version"], "none");
  EXPECT_EQ(lp["fell-back"], true);
  EXPECT_GE(lp["margin-db"].get<double>(), 0.0);
  ExpectOnFlexGrid(lp["spectrum"]);
  EXPECT_EQ(svc.at("end-point")
                .at(0)
                .at("tapi-photonic-media:media-channel-connectivity-service-end-point-spec")
                .at("mc-config")
                .at("spectrum"),
            lp["spectrum"]);
  // The path lives in the path-computation context until deleted; nothing was provisioned.
  const std::string p =
      std::string(kContext) + "/tapi-path-computation:path-computation-context/path=" + path_uuid;
  Reply got = s_.Get(p);
  ASSERT_EQ(got.status, 200) << got.text;
  const Json& path = got.body.at("tapi-path-computation:path").at(0);
  EXPECT_EQ(path.at("link"), lp.at("route"));
  EXPECT_TRUE(s_.pce().ListServices().empty());
  Reply del = s_.Post("/restconf/operations/tapi-path-computation:delete-p-2-p-path",
                      {{"tapi-path-computation:input", {{"path-id-or-name", path_uuid}}}});
  ASSERT_EQ(del.status, 200) << del.text;
  EXPECT_EQ(del.body["tapi-path-computation:output"]["service"]["path"][0]["path-uuid"], path_uuid);
  Reply gone = s_.Get(p);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Error(gone)["error-tag"], "invalid-value");
}

TEST_F(RestTest, Tapi24SpellingGivesTheSamePathAndIsAnsweredIn24) {
  const std::string topo = s_.pce().ted().TopologyUuid();
  const int avoid = s_.pce()
                        .ComputePath([&] {
                          pce::PathRequest q;
                          q.src = 0;
                          q.dst = 13;
                          q.bit_rate_gbps = 100;
                          return q;
                        }())
                        .fibres.at(0);
  Json in21 = ComputeInput21(Sip(0), Sip(13), 100);
  in21["tapi-path-computation:input"]["topology-constraint"] = {
      {"exclude-link", {s_.pce().ted().LinkUuid(avoid)}}};
  in21["tapi-path-computation:input"]["routing-constraint"] = {
      {"max-allowed-delay", {{"value", "100000"}}}};
  Json in24 = {
      {"input",
       {{"end-point",
         {{{"local-id", "a"},
           {"service-interface-point", {{"service-interface-point-uuid", Sip(0)}}},
           {"direction", "SOURCE"},
           {"capacity",
            {{"total-size", {{"value", "100"}, {"unit", "tapi-common:CAPACITY_UNIT_GBPS"}}}}}},
          {{"local-id", "z"},
           {"service-interface-point", {{"service-interface-point-uuid", Sip(13)}}},
           {"direction", "SINK"}}}},
        {"topology-constraint",
         {{{"local-id", "tc"},
           {"exclude-link",
            {{{"topology-uuid", topo}, {"link-uuid", s_.pce().ted().LinkUuid(avoid)}}}}}}},
        {"routing-constraint", {{"max-allowed-delay", {{"value", 100000}}}}},
        {"some-future-leaf", {{"ignored", true}}}}}};
  Reply a = s_.Post(kCompute, in21), b = s_.Post(std::string(kCompute) + "?bare-output=true", in24);
  ASSERT_EQ(a.status, 200) << a.text;
  ASSERT_EQ(b.status, 200) << b.text;
  const Json& la = a.body["tapi-path-computation:output"]["service"]["eonops-pce:lightpath"];
  const Json& lb = b.body.at("output").at("service").at("eonops-pce:lightpath");
  EXPECT_EQ(la["route"], lb["route"]);
  EXPECT_EQ(la["spectrum"]["lower-frequency"], lb["spectrum"]["lower-frequency"]);
  for (const auto& l : la["route"]) EXPECT_NE(l["link-uuid"], s_.pce().ted().LinkUuid(avoid));
  // Answered in the request's spelling.
  EXPECT_EQ(a.body["tapi-path-computation:output"]["service"]["end-point"][0]["capacity"]
                  ["total-size"]["unit"],
            "GBPS");
  EXPECT_EQ(b.body["output"]["service"]["end-point"][0]["capacity"]["total-size"]["unit"],
            "tapi-common:CAPACITY_UNIT_GBPS");
  EXPECT_EQ(b.body["output"]["service"]["end-point"][0]["direction"], "SOURCE");
  EXPECT_EQ(lb["spectrum"]["frequency-constraint"]["grid-type"],
            "tapi-photonic-media:GRID_TYPE_FLEX");
  // ?tapi-version overrides for GETs.
  Reply sip =
      s_.Get(std::string(kContext) + "/service-interface-point=" + Sip(1) + "?tapi-version=2.4");
  EXPECT_EQ(sip.body["tapi-common:service-interface-point"][0]
                    ["tapi-photonic-media:media-channel-service-interface-point-spec"]["mc-pool"]
                    ["supportable-spectrum"][0]["frequency-constraint"]["adjustment-granularity"],
            "tapi-photonic-media:ADJUSTMENT_GRANULARITY_G_6_25GHZ");
}

TEST_F(RestTest, ConnectivityServicesAsRpcs) {
  Json in = ServiceBody(Sip(2), Sip(11), 100)["tapi-connectivity:connectivity-service"][0];
  in["name"] = {{{"value-name", "service-name"}, {"value", "rpc-test"}}};
  Reply c = s_.Post("/restconf/operations/tapi-connectivity:create-connectivity-service",
                    {{"tapi-connectivity:input", in}});
  ASSERT_EQ(c.status, 200) << c.text;
  const Json& svc = c.body.at("tapi-connectivity:output").at("service");
  const std::string uuid = svc.at("uuid");
  EXPECT_TRUE(pce::IsUuid(uuid));
  EXPECT_EQ(svc["name"][0]["value"], "rpc-test");
  EXPECT_EQ(svc["connectivity-constraint"]["requested-capacity"]["total-size"]["value"], 100);
  EXPECT_EQ(svc["lifecycle-state"], "INSTALLED");
  Reply list = s_.Post("/restconf/operations/tapi-connectivity:get-connectivity-service-list",
                       Json::object());
  ASSERT_EQ(list.status, 200) << list.text;
  ASSERT_EQ(list.body["tapi-connectivity:output"]["service"].size(), 1u);
  Reply details = s_.Post("/restconf/operations/tapi-connectivity:get-connectivity-service-details",
                          {{"tapi-connectivity:input", {{"service-id-or-name", uuid}}}});
  ASSERT_EQ(details.status, 200);
  EXPECT_EQ(details.body["tapi-connectivity:output"]["service"], svc);
  // The SIP's mc-pool now shows the channel as occupied.
  Reply sip = s_.Get(std::string(kContext) + "/service-interface-point=" + Sip(2));
  const Json& pool =
      sip.body["tapi-common:service-interface-point"][0]
              ["tapi-photonic-media:media-channel-service-interface-point-spec"]["mc-pool"];
  ASSERT_EQ(pool["occupied-spectrum"].size(), 1u);
  EXPECT_EQ(pool["occupied-spectrum"][0], svc["eonops-pce:lightpath"]["spectrum"]);
  Reply del = s_.Post("/restconf/operations/tapi-connectivity:delete-connectivity-service",
                      {{"tapi-connectivity:input", {{"service-id-or-name", uuid}}}});
  ASSERT_EQ(del.status, 200) << del.text;
  EXPECT_EQ(del.body["tapi-connectivity:output"]["service"]["uuid"], uuid);
  Reply again = s_.Post("/restconf/operations/tapi-connectivity:delete-connectivity-service",
                        {{"tapi-connectivity:input", {{"service-id-or-name", uuid}}}});
  EXPECT_EQ(again.status, 404);
  // TAPI 2.4: uuid, and no output. A bare "input" is answered with a bare "output".
  Reply c2 = s_.Post("/restconf/operations/tapi-connectivity:create-connectivity-service",
                     {{"input", in}});
  ASSERT_EQ(c2.status, 200);
  ASSERT_TRUE(c2.body.contains("output")) << c2.text;
  Reply d2 = s_.Post("/restconf/operations/tapi-connectivity:delete-connectivity-service",
                     {{"input", {{"uuid", c2.body["output"]["service"]["uuid"]}}}});
  EXPECT_EQ(d2.status, 204);
  EXPECT_TRUE(s_.pce().ListServices().empty());
}

TEST_F(RestTest, ConnectivityServicesOnTheDataStoreAsTeraFlowSdnUsesThem) {
  // TeraFlowSDN's TAPI driver: its own uuid, capacity as a string, a typo'd leaf it always sends.
  Json body = ServiceBody(Sip(4), Sip(12), 0, "tfs-service-1");
  Json& svc = body["tapi-connectivity:connectivity-service"][0];
  svc["connectivity-constraint"]["requested-capacity"]["total-size"]["value"] = "100";
  for (auto& ep : svc["end-point"]) {
    ep["direction:"] = "BIDIRECTIONAL";
    ep["layer-protocol-name"] = "PHOTONIC_MEDIA";
    ep["layer-protocol-qualifier"] = "tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_NMC";
  }
  Reply c = s_.Post(kConnectivity, body);
  ASSERT_EQ(c.status, 201) << c.text;
  EXPECT_EQ(c.location, std::string(kConnectivity) + "/connectivity-service=tfs-service-1");
  Reply got = s_.Get(c.location);
  ASSERT_EQ(got.status, 200) << got.text;
  EXPECT_EQ(got.body["tapi-connectivity:connectivity-service"][0]["uuid"], "tfs-service-1");
  // TFS reads services back from the context.
  Reply ctx = s_.Get(kContext);
  const Json& services = ctx.body["tapi-common:context"]["tapi-connectivity:connectivity-context"]
                                 ["connectivity-service"];
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]["end-point"][0]["service-interface-point"]["service-interface-point-uuid"],
            Sip(4));
  Reply dup = s_.Post(kConnectivity + std::string("/connectivity-service"), body);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Error(dup)["error-tag"], "data-exists");
  EXPECT_EQ(s_.Delete(c.location).status, 204);
  EXPECT_EQ(s_.Get(c.location).status, 404);
  EXPECT_EQ(s_.Delete(c.location).status, 404);

  // Several services in one POST are created all or nothing.
  Json two = ServiceBody(Sip(1), Sip(2), 100, "ok-1");
  two["tapi-connectivity:connectivity-service"].push_back(
      ServiceBody(Sip(1), Sip(3), 100, "ok-1")["tapi-connectivity:connectivity-service"][0]);
  Reply refused = s_.Post(kConnectivity, two);
  EXPECT_EQ(refused.status, 409) << refused.text;
  EXPECT_EQ(Error(refused)["error-tag"], "data-exists");
  EXPECT_TRUE(s_.pce().ListServices().empty()) << "the first service was rolled back";
}

TEST_F(RestTest, ErrorsAreRfc8040WithTheRightStatus) {
  auto expect = [](const Reply& r, int status, const std::string& tag, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.text;
    EXPECT_EQ(r.content_type, "application/yang-data+json");
    Json e = Error(r);
    ASSERT_TRUE(e.is_object()) << r.text;
    EXPECT_EQ(e["error-tag"], tag) << r.text;
    EXPECT_EQ(e["error-type"], type) << r.text;
    EXPECT_TRUE(e["error-message"].is_string());
  };
  expect(s_.PostRaw(kCompute, "{\"input\": {"), 400, "malformed-message", "protocol");
  expect(s_.PostRaw(kCompute,
                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]"
                    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
         400, "malformed-message", "protocol");
  Reply unknown_sip = s_.Post(kCompute, ComputeInput21("sip-X", Sip(3), 100));
  expect(unknown_sip, 400, "invalid-value", "application");
  EXPECT_NE(
      Error(unknown_sip)["error-path"].get<std::string>().find("sep[0]/service-interface-point"),
      std::string::npos);
  EXPECT_NE(Error(unknown_sip)["error-message"].get<std::string>().find("sip-X"),
            std::string::npos);
  Json data_size = ComputeInput21(Sip(0), Sip(3), 100);
  data_size["tapi-path-computation:input"]["sep"][0]["capacity"]["total-size"]["unit"] = "GB";
  expect(s_.Post(kCompute, data_size), 400, "invalid-value", "application");
  expect(s_.Post(kCompute, Json::object()), 400, "missing-element", "application");
  expect(s_.Post(kCompute, {{"input", {{"sep", 7}}}}), 400, "invalid-value", "application");
  Json bidir = ServiceBody(Sip(1), Sip(2), 100);
  bidir["tapi-connectivity:connectivity-service"][0]["connectivity-constraint"]
       ["connectivity-direction"] = "SIDEWAYS";
  expect(s_.Post(kConnectivity, bidir), 400, "invalid-value", "application");
  Json off_grid = ComputeInput21(Sip(0), Sip(3), 100);
  off_grid["tapi-path-computation:input"]["sep"][0]
          ["tapi-photonic-media:media-channel-connectivity-service-end-point-spec"] = {
              {"mc-config",
               {{"spectrum", {{"lower-frequency", 191300001}, {"upper-frequency", 191350000}}}}}};
  expect(s_.Post(kCompute, off_grid), 400, "invalid-value", "application");
  expect(s_.Get(std::string(kContext) + "/no-such-thing"), 404, "invalid-value", "protocol");
  expect(s_.Get(std::string(kContext) + "/service-interface-point=nope"), 404, "invalid-value",
         "protocol");
  expect(s_.Get("/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context/"
                "connectivity-service=nope"),
         404, "invalid-value", "protocol");
  expect(s_.Post("/restconf/operations/tapi-connectivity:no-such-rpc", Json::object()), 404,
         "invalid-value", "protocol");
  Reply put = s_.Put(kContext, Json::object());
  expect(put, 405, "operation-not-supported", "protocol");
  expect(s_.Get(kCompute), 405, "operation-not-supported", "protocol");
  expect(s_.PostRaw(kCompute, "<xml/>", "application/xml"), 415, "invalid-value", "protocol");
  expect(s_.PostRaw(kCompute, std::string(5u << 20, ' '), "application/json"), 413, "too-big",
         "transport");
  expect(s_.Post("/restconf/operations/tapi-connectivity:update-connectivity-service",
                 {{"input", Json::object()}}),
         501, "operation-not-supported", "application");

  // No feasible lightpath: 409 resource-denied with the cause.
  Reply last;
  for (int i = 0; i < 100; ++i) {
    last = s_.Post(kConnectivity, ServiceBody(Sip(0), Sip(1), 400));
    if (last.status != 201) break;
  }
  expect(last, 409, "resource-denied", "application");
  EXPECT_EQ(Error(last)["error-info"]["eonops-pce:block-cause"], "no_spectrum");
  EXPECT_EQ(Error(last)["error-info"]["eonops-pce:decided-by"], "heuristic:ksp-ff");
}

TEST(RestAuthTest, WritesNeedTheBearerToken) {
  TempDir dir;
  {
    std::ofstream f(dir / "tokens");
    f << "# operators\nalice 0123456789abcdef0123\n";
  }
  Server s(pce::testing::SmallConfig(), {}, dir / "tokens");
  const std::string a = s.pce().ted().SipUuid(0), z = s.pce().ted().SipUuid(5);
  EXPECT_EQ(s.Get(kContext).status, 200) << "reads stay open";
  Reply none = s.Post(kCompute, ComputeInput21(a, z, 100));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Error(none)["error-tag"], "access-denied");
  EXPECT_NE(none.www_authenticate.find("Bearer"), std::string::npos);
  Reply wrong = s.Post(kCompute, ComputeInput21(a, z, 100),
                       {{"Authorization", "Bearer 0123456789abcdef0124"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Error(wrong)["error-tag"], "access-denied");
  Reply basic =
      s.Post(kCompute, ComputeInput21(a, z, 100), {{"Authorization", "Basic YWxpY2U6eA=="}});
  EXPECT_EQ(basic.status, 401);
  const httplib::Headers ok = {{"Authorization", "Bearer 0123456789abcdef0123"}};
  EXPECT_EQ(s.Post(kCompute, ComputeInput21(a, z, 100), ok).status, 200);
  Reply created = s.Post(kConnectivity, ServiceBody(a, z, 100, "svc"), ok);
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(s.Delete(created.location).status, 401);
  EXPECT_EQ(
      s.Post("/restconf/operations/tapi-connectivity:get-connectivity-service-list", Json::object())
          .status,
      200)
      << "read-only RPCs stay open";
  EXPECT_EQ(s.Delete(created.location, ok).status, 204);
}

TEST_F(RestTest, MetricsHealthAndInProcessHandlingAgree) {
  s_.Post(kCompute, ComputeInput21(Sip(0), Sip(9), 100));
  s_.Get(std::string(kContext) + "/nope");
  Reply m = s_.Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(
      m.text.find("eonops_pce_requests_total{operation=\"compute-p-2-p-path\",outcome=\"ok\"} 1"),
      std::string::npos)
      << m.text;
  EXPECT_NE(m.text.find("outcome=\"not_found\"} 1"), std::string::npos);
  EXPECT_NE(
      m.text.find("eonops_pce_request_duration_seconds_count{operation=\"compute-p-2-p-path\"} 1"),
      std::string::npos);
  Reply h = s_.Get("/health");
  EXPECT_EQ(h.body["status"], "ok");
  TapiServer::Reply direct =
      s_.server().Handle("GET", "/data/tapi-common:context/service-interface-point", "");
  EXPECT_EQ(direct.status, 200);
  EXPECT_EQ(Json::parse(direct.body),
            s_.Get(std::string(kContext) + "/service-interface-point").body);
}

}  // namespace
}  // namespace eonops::tapi
