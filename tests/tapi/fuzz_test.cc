// A seeded fuzzer of RESTCONF paths and TAPI bodies: mutated valid requests, wrong types,
// truncated and random bytes, odd methods. Nothing crashes or hangs the server, nothing is a
// 500, and every refusal is an RFC 8040 JSON error. Bounded in requests and in time.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "tests/tapi/tapi_test_util.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using Rng = std::mt19937_64;

Json RandomScalar(Rng& rng) {
  switch (rng() % 10) {
    case 0:
      return nullptr;
    case 1:
      return true;
    case 2:
      return static_cast<int64_t>(rng());
    case 3:
      return -1;
    case 4:
      return 1e308 * 10;  // inf: dumps as null
    case 5:
      return 0.5;
    case 6:
      return "";
    case 7:
      return std::string(1 + rng() % 300, 'x');
    case 8:
      return "tapi-common:CAPACITY_UNIT_GBPS";
    default:
      return "193100000";
  }
}

Json RandomValue(Rng& rng, int depth) {
  if (depth > 3 || rng() % 3 == 0) return RandomScalar(rng);
  if (rng() % 2) {
    Json a = Json::array();
    for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i)
      a.push_back(RandomValue(rng, depth + 1));
    return a;
  }
  Json o = Json::object();
  static const char* kKeys[] = {"end-point",
                                "sep",
                                "service-interface-point",
                                "capacity",
                                "total-size",
                                "value",
                                "unit",
                                "uuid",
                                "topology-constraint",
                                "exclude-link",
                                "include-node",
                                "routing-constraint",
                                "max-allowed-delay",
                                "direction",
                                "mc-config",
                                "spectrum",
                                "lower-frequency",
                                "upper-frequency",
                                "input",
                                "tapi-connectivity:connectivity-service"};
  for (int i = 0, n = static_cast<int>(rng() % 4); i < n; ++i)
    o[kKeys[rng() % 20]] = RandomValue(rng, depth + 1);
  return o;
}

// Replaces, deletes or retypes one random member somewhere in `j`.
void Mutate(Json& j, Rng& rng, int depth = 0) {
  if (!j.is_structured() || j.empty() || depth > 8) {
    j = RandomValue(rng, 2);
    return;
  }
  if (j.is_object()) {
    auto it = j.begin();
    std::advance(it, rng() % j.size());
    switch (rng() % 4) {
      case 0:
        j.erase(it);
        return;
      case 1:
        *it = RandomValue(rng, 1);
        return;
      default:
        Mutate(*it, rng, depth + 1);
        return;
    }
  }
  const size_t i = rng() % j.size();
  if (rng() % 4 == 0) {
    j.erase(i);
  } else {
    Mutate(j[i], rng, depth + 1);
  }
}

TEST(FuzzTest, MalformedPathsAndBodiesAlwaysGetAJsonErrorNeverACrash) {
  testing::Server s;
  const pce::TeDatabase& ted = s.pce().ted();
  const std::string sip0 = ted.SipUuid(0), sip5 = ted.SipUuid(5);
  const std::vector<Json> bodies = {
      testing::ComputeInput21(sip0, sip5, 100),
      testing::ServiceBody(sip0, sip5, 100),
      {{"input",
        testing::ServiceBody(sip0, sip5, 100)["tapi-connectivity:connectivity-service"][0]}},
      {{"input", {{"service-id-or-name", "x"}}}},
      {{"tapi-path-computation:input",
        {{"path-id-or-name", "x"}, {"topology-constraint", {{"exclude-node", {sip5}}}}}}},
  };
  const std::vector<std::string> paths = {
      "/restconf/data/tapi-common:context",
      "/restconf/data/tapi-common:context/service-interface-point=" + sip0,
      "/restconf/data/tapi-common:context/tapi-topology:topology-context/topology=" +
          ted.TopologyUuid() + "/node=" + ted.NodeUuid(1) +
          "/owned-node-edge-point=" + ted.AddDropNepUuid(1),
      "/restconf/data/tapi-common:context/tapi-topology:topology-context/topology=" +
          ted.TopologyUuid() + "/link=" + ted.LinkUuid(2),
      "/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context",
      "/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context/"
      "connectivity-service=x",
      "/restconf/data/tapi-common:context/tapi-path-computation:path-computation-context/path=x",
      "/restconf/operations/tapi-path-computation:compute-p-2-p-path",
      "/restconf/operations/tapi-path-computation:delete-p-2-p-path",
      "/restconf/operations/tapi-path-computation:optimize-p-2-p-path",
      "/restconf/operations/tapi-connectivity:create-connectivity-service",
      "/restconf/operations/tapi-connectivity:get-connectivity-service-details",
      "/restconf/operations/tapi-connectivity:delete-connectivity-service",
      "/restconf/operations/tapi-common:get-service-interface-point-details",
      "/restconf/operations/tapi-topology:get-node-details",
      "/metrics",
  };
  const std::vector<std::string> methods = {"GET",    "POST", "POST",  "POST",
                                            "DELETE", "PUT",  "PATCH", "OPTIONS"};
  const std::set<int> allowed = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 501};
  Rng rng(20240613);
  auto client = s.NewClient();
  const auto start = std::chrono::steady_clock::now();
  int sent = 0, answered = 0;
  std::map<int, int> statuses;
  for (; sent < 4000 && std::chrono::steady_clock::now() - start < std::chrono::seconds(25);
       ++sent) {
    std::string path = paths[rng() % paths.size()];
    switch (rng() % 8) {
      case 0:
        path += "/" + std::string(1 + rng() % 20, "ab=:%/~-_"[rng() % 9]);
        break;
      case 1:
        path = path.substr(0, rng() % (path.size() + 1));
        break;
      case 2:
        path += "=" + std::to_string(rng());
        break;
      case 3:
        path.insert(rng() % (path.size() + 1), "/" + std::string(rng() % 3, '='));
        break;
      case 4:
        path += "?tapi-version=" + std::to_string(rng() % 30) + "&bare-output=maybe";
        break;
      case 5:
        path += std::string(rng() % 2000, 'x');
        break;
      default:
        break;
    }
    if (path.empty() || path[0] != '/') path = "/" + path;
    std::string body;
    switch (rng() % 6) {
      case 0:
        body = "";
        break;
      case 1: {
        std::string junk(rng() % 200, ' ');
        for (char& c : junk) c = static_cast<char>(rng() % 256);
        body = junk;
        break;
      }
      case 2:
        body = bodies[rng() % bodies.size()].dump().substr(0, rng() % 120);
        break;
      default: {
        Json b = bodies[rng() % bodies.size()];
        for (int m = 0, n = 1 + static_cast<int>(rng() % 3); m < n; ++m) Mutate(b, rng);
        body = b.dump(-1, ' ', false, Json::error_handler_t::replace);
      }
    }
    const std::string& method = methods[rng() % methods.size()];
    httplib::Request req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", rng() % 10 ? "application/yang-data+json" : "text/plain");
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    if (!client->send(req, res, err)) {
      // A request line httplib itself refuses to send is not the server's business.
      client = s.NewClient();
      continue;
    }
    ++answered;
    ++statuses[res.status];
    ASSERT_TRUE(allowed.count(res.status))
        << method << " " << path.substr(0, 200) << " " << body.substr(0, 200) << " -> "
        << res.status << " " << res.body.substr(0, 300);
    if (res.status >= 400 && method != "HEAD") {
      Json e = Json::parse(res.body, nullptr, false);
      ASSERT_FALSE(e.is_discarded()) << res.status << " not JSON: " << res.body.substr(0, 200);
      ASSERT_TRUE(e.contains("ietf-restconf:errors")) << res.body.substr(0, 200);
      ASSERT_TRUE(e["ietf-restconf:errors"]["error"][0]["error-message"].is_string());
    }
  }
  EXPECT_GT(answered, 1000);
  std::cout << "fuzz: " << answered << " of " << sent << " requests answered; statuses:";
  for (const auto& [status, n] : statuses) std::cout << " " << status << "x" << n;
  std::cout << "\n";
  EXPECT_GT(statuses[200] + statuses[201], 20) << "some mutations are still valid requests";
  EXPECT_EQ(s.Get("/health").status, 200) << "the server is still up";
  EXPECT_EQ(s.pce().CheckInvariants(), "");
  EXPECT_EQ(s.pce().metrics().RequestCount("http", "server_error"), 0);
}

}  // namespace
}  // namespace eonops::tapi
