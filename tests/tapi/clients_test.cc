// Two real TAPI clients, replayed byte for byte against the PCE with the shipped config
// (configs/pce.json), as they are written, unchanged:
//
//  - ETSI TeraFlowSDN's TAPI device driver (src/device/service/drivers/transport_api/Tools.py and
//    TransportApiDriver.py, with the defaults of its tapi_tapi service handler: 50 GHz,
//    PHOTONIC_MEDIA / PHOTONIC_LAYER_QUALIFIER_NMC, UNIDIRECTIONAL): connect, read endpoints, read
//    services, create, read services, delete, delete an unknown one. python-requests' headers;
//    content-type application/json on the create only; success is any of 200/201/202/204.
//  - Nextworks' PCE client (PCE/test_pce/dummy_pce_client.py and pce_req.json of
//    nextworks-it/qameleon-sdn-controller): compute with empty capacities and an empty
//    routing-constraint, read the path, delete it; paths without /restconf and with a trailing
//    slash, Content-Type and Accept application/yang-data+json on every request, GETs too; it
//    reads the bare json["output"]["service"]["path"][0]["path-uuid"].
//
// The requests go over a plain socket, so the headers are exactly the clients' (no HTTP library
// adds or reorders any).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>

#include "tests/tapi/tapi_test_util.h"

namespace eonops::tapi {
namespace {

using testing::Json;
using testing::Server;

struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Json json;
};

// One HTTP/1.1 exchange on a fresh connection: `head` is the request line and headers as the
// client writes them (without the blank line), `body` what follows.
RawReply Exchange(int port, const std::string& head, const std::string& body = "") {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  RawReply r;
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    ADD_FAILURE() << "connect failed";
    return r;
  }
  const std::string request = head + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(s, request.data() + sent, request.size() - sent, 0);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  size_t header_end = std::string::npos, want = std::string::npos;
  for (;;) {
    const ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos &&
        (header_end = in.find("\r\n\r\n")) != std::string::npos) {
      std::string lower = in.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      const auto cl = lower.find("content-length:");
      want = header_end + 4 + (cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15)));
    }
    if (want != std::string::npos && in.size() >= want) break;
  }
  close(s);
  if (header_end == std::string::npos) {
    ADD_FAILURE() << "no HTTP reply: " << in;
    return r;
  }
  r.status = std::stoi(in.substr(9, 3));
  size_t line = in.find("\r\n") + 2;
  while (line < header_end) {
    const size_t end = in.find("\r\n", line);
    const std::string h = in.substr(line, end - line);
    const auto colon = h.find(':');
    std::string name = h.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    r.headers[name] = h.substr(h.find_first_not_of(' ', colon + 1));
    line = end + 2;
  }
  r.body = in.substr(header_end + 4);
  r.json = Json::parse(r.body, nullptr, false);
  if (r.json.is_discarded()) r.json = nullptr;
  return r;
}

// What python-requests 2.x sends on every request.
std::string RequestsHead(const std::string& method, const std::string& path, int port) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nUser-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\n"
         "Accept: */*\r\nConnection: keep-alive";
}

bool TfsOk(int status) { return status == 200 || status == 201 || status == 202 || status == 204; }

// Tools.py config_getter(RESOURCE_ENDPOINTS): the endpoint type string TFS builds per SIP.
std::vector<std::pair<std::string, std::string>> TfsEndpoints(const Json& reply) {
  Json context = reply;
  if (context.contains("tapi-common:context"))
    context = context["tapi-common:context"];
  else if (context.contains("context"))
    context = context["context"];
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& sip : context.at("service-interface-point")) {
    Json spectrum =
        sip.value("tapi-photonic-media:media-channel-service-interface-point-spec", Json::object())
            .value("mc-pool", Json::object())
            .value("supportable-spectrum", Json::array());
    spectrum = spectrum.size() == 1 ? spectrum[0] : Json::object();
    const Json fc = spectrum.value("frequency-constraint", Json::object());
    std::string type = sip.value("layer-protocol-name", "?");
    for (const char* k : {"grid-type", "adjustment-granularity"})
      if (fc.contains(k)) type += ":" + fc[k].get<std::string>();
    type += ":" + sip.value("direction", "?");
    out.push_back({sip.at("uuid").get<std::string>(), type});
  }
  return out;
}

// Tools.py config_getter(RESOURCE_SERVICES): what TFS reads of each service.
std::vector<Json> TfsServices(const Json& reply) {
  Json context = reply;
  if (context.contains("tapi-common:context")) context = context["tapi-common:context"];
  if (context.contains("tapi-connectivity:connectivity-context"))
    context = context["tapi-connectivity:connectivity-context"];
  std::vector<Json> out;
  for (const Json& svc : context.at("connectivity-service")) {  // must be present, even empty
    const Json constraints = svc.value("connectivity-constraint", Json::object());
    const Json total =
        constraints.value("requested-capacity", Json::object()).value("total-size", Json::object());
    Json data = {{"uuid", svc.at("uuid")},
                 {"direction", constraints.value("connectivity-direction", "UNIDIRECTIONAL")},
                 {"capacity_unit", total.value("unit", Json("<UNDEFINED>"))},
                 {"capacity_value", total.value("value", Json("<UNDEFINED>"))}};
    const Json& eps = svc.at("end-point");
    for (size_t i = 0; i < eps.size(); ++i) {
      data[i == 0 ? "input_sip" : "output_sip"] =
          eps[i].at("service-interface-point").at("service-interface-point-uuid");
    }
    out.push_back(data);
  }
  return out;
}

// Tools.py create_connectivity_service(), with the tapi_tapi handler's defaults, as json.dumps
// writes it.
std::string TfsCreateBody(const std::string& uuid, const std::string& in, const std::string& out,
                          const std::string& direction) {
  return "{\"tapi-connectivity:connectivity-service\": [{\"uuid\": \"" + uuid +
         "\", \"connectivity-constraint\": {\"requested-capacity\": {\"total-size\": {\"value\": "
         "50.0, \"unit\": \"GHz\"}}, \"connectivity-direction\": \"" +
         direction +
         "\"}, \"end-point\": [{\"service-interface-point\": {\"service-interface-point-uuid\": "
         "\"" +
         in +
         "\"}, \"layer-protocol-name\": \"PHOTONIC_MEDIA\", \"layer-protocol-qualifier\": "
         "\"tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_NMC\", \"local-id\": \"" +
         in + "\"}, {\"service-interface-point\": {\"service-interface-point-uuid\": \"" + out +
         "\"}, \"layer-protocol-name\": \"PHOTONIC_MEDIA\", \"layer-protocol-qualifier\": "
         "\"tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_NMC\", \"local-id\": \"" +
         out + "\"}]}]}";
}

class ClientsTest : public ::testing::Test {
 protected:
  ClientsTest() : s_(pce::testing::ShippedConfig()) {}
  int port() const { return s_.port(); }
  Server s_;
};

TEST_F(ClientsTest, TeraFlowSdnTapiDriverUnchanged) {
  const std::string context = "/restconf/data/tapi-common:context";
  const std::string connectivity = context + "/tapi-connectivity:connectivity-context";
  // Connect(): a GET of the context, no content type.
  RawReply hello = Exchange(port(), RequestsHead("GET", context, port()));
  ASSERT_EQ(hello.status, 200) << hello.body;

  // GetConfig(endpoints): every SIP is a flex-grid photonic-media endpoint.
  RawReply endpoints = Exchange(port(), RequestsHead("GET", context, port()));
  ASSERT_TRUE(endpoints.json.is_object()) << endpoints.body;
  const auto eps = TfsEndpoints(endpoints.json);
  ASSERT_EQ(eps.size(), 14u);
  for (const auto& [uuid, type] : eps)
    EXPECT_EQ(type, "PHOTONIC_MEDIA:FLEX:G_6_25GHZ:BIDIRECTIONAL");

  // GetConfig(services): the list is there, empty.
  EXPECT_TRUE(TfsServices(Exchange(port(), RequestsHead("GET", context, port())).json).empty());

  // SetConfig(): create, 50 GHz of spectrum, UNIDIRECTIONAL.
  const std::string uuid = "0c5a3b42-8a3d-4a16-93ac-5d7f4b1d2e01";
  const std::string body = TfsCreateBody(uuid, eps[0].first, eps[13].first, "UNIDIRECTIONAL");
  RawReply created = Exchange(port(),
                              RequestsHead("POST", connectivity, port()) +
                                  "\r\nContent-Length: " + std::to_string(body.size()) +
                                  "\r\ncontent-type: application/json",
                              body);
  ASSERT_TRUE(TfsOk(created.status)) << created.status << " " << created.body;
  // A spectrum request: 50 GHz is 4 slots of 12.5 GHz, routed and assigned, no format chosen.
  const Json& lp =
      created.json["tapi-connectivity:connectivity-service"][0]["eonops-pce:lightpath"];
  EXPECT_EQ(lp["slots"], 4) << lp.dump();
  EXPECT_EQ(lp["spectrum-width-ghz"], 50.0);
  EXPECT_EQ(lp["spectrum"]["upper-frequency"].get<int64_t>() -
                lp["spectrum"]["lower-frequency"].get<int64_t>(),
            50000);
  EXPECT_TRUE(lp.contains("supported-modulation"));
  EXPECT_FALSE(lp.contains("modulation"));
  EXPECT_EQ(lp["capacity-source"], "requested spectrum");

  // GetConfig(services): TFS sees its service as it asked for it.
  auto services = TfsServices(Exchange(port(), RequestsHead("GET", context, port())).json);
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]["uuid"], uuid);
  EXPECT_EQ(services[0]["direction"], "UNIDIRECTIONAL");
  EXPECT_EQ(services[0]["capacity_unit"], "GHz");
  EXPECT_EQ(services[0]["capacity_value"], 50);
  EXPECT_EQ(services[0]["input_sip"], eps[0].first);
  EXPECT_EQ(services[0]["output_sip"], eps[13].first);

  // DeleteConfig(): the service, then one that does not exist (TFS logs the status; it is a
  // clean 404 with an RFC 8040 body, not a crash).
  RawReply deleted = Exchange(
      port(), RequestsHead("DELETE", connectivity + "/connectivity-service=" + uuid, port()) +
                  "\r\nContent-Length: 0");
  EXPECT_TRUE(TfsOk(deleted.status)) << deleted.status << " " << deleted.body;
  EXPECT_TRUE(TfsServices(Exchange(port(), RequestsHead("GET", context, port())).json).empty());
  RawReply unknown = Exchange(
      port(), RequestsHead("DELETE", connectivity + "/connectivity-service=" + uuid, port()) +
                  "\r\nContent-Length: 0");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["ietf-restconf:errors"]["error"][0]["error-tag"], "invalid-value");
  EXPECT_EQ(s_.pce().CheckInvariants(), "");
}

// The same driver with direction BIDIRECTIONAL in the service settings: one request, one
// service that TFS lists once, two lightpaths on the same slots, freed together.
TEST_F(ClientsTest, TeraFlowSdnBidirectionalServiceIsOneServiceWithBothDirections) {
  const std::string context = "/restconf/data/tapi-common:context";
  const std::string connectivity = context + "/tapi-connectivity:connectivity-context";
  const auto eps = TfsEndpoints(Exchange(port(), RequestsHead("GET", context, port())).json);
  const std::string uuid = "bidi-1";
  const std::string body = TfsCreateBody(uuid, eps[2].first, eps[9].first, "BIDIRECTIONAL");
  RawReply created = Exchange(port(),
                              RequestsHead("POST", connectivity, port()) +
                                  "\r\nContent-Length: " + std::to_string(body.size()) +
                                  "\r\ncontent-type: application/json",
                              body);
  ASSERT_TRUE(TfsOk(created.status)) << created.body;
  auto services = TfsServices(Exchange(port(), RequestsHead("GET", context, port())).json);
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]["direction"], "BIDIRECTIONAL");
  const Json& svc = created.json["tapi-connectivity:connectivity-service"][0];
  const Json& az = svc["eonops-pce:lightpath"];
  const Json& za = svc["eonops-pce:reverse-lightpath"];
  ASSERT_TRUE(za.is_object()) << svc.dump();
  EXPECT_EQ(az["spectrum"], za["spectrum"]) << "symmetric spectrum by default";
  std::vector<std::string> back = za["nodes"];
  std::reverse(back.begin(), back.end());
  EXPECT_EQ(az["nodes"].get<std::vector<std::string>>(), back) << "the same route, reversed";
  EXPECT_EQ(s_.pce().model().topology().NumFibres(), 44);
  EXPECT_EQ(s_.pce().CheckInvariants(), "");
  RawReply deleted = Exchange(
      port(), RequestsHead("DELETE", connectivity + "/connectivity-service=" + uuid, port()) +
                  "\r\nContent-Length: 0");
  EXPECT_EQ(deleted.status, 204);
  const pce::OccupancySnapshot o = s_.pce().Occupancy();
  for (const auto& w : o.words)
    for (uint64_t x : w) EXPECT_EQ(x, 0u) << "both directions are released";
}

// http.client.HTTPConnection.request() with the dummy client's headers.
std::string NextworksHead(const std::string& method, const std::string& path, int port,
                          size_t body_bytes, bool has_body) {
  std::string h = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                  "\r\nAccept-Encoding: identity";
  if (has_body) h += "\r\nContent-Length: " + std::to_string(body_bytes);
  return h + "\r\nContent-Type: application/yang-data+json\r\nAccept: application/yang-data+json";
}

TEST_F(ClientsTest, NextworksPceClientUnchanged) {
  const auto& ted = s_.pce().ted();
  // pce_req.json, with this network's SIPs in place of the sample's endpoint-a_sip01/-b_sip01.
  const Json request = {
      {"input",
       {{"end-point",
         {{{"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(0)}}},
           {"capacity", Json::object()}},
          {{"service-interface-point", {{"service-interface-point-uuid", ted.SipUuid(12)}}},
           {"capacity", Json::object()}}}},
        {"routing-constraint", Json::object()}}}};
  const std::string body = request.dump();  // json.dumps(data)
  RawReply computed =
      Exchange(port(),
               NextworksHead("POST", "/operations/tapi-path-computation:compute-p-2-p-path/",
                             port(), body.size(), true),
               body);
  ASSERT_EQ(computed.status, 200) << computed.body;
  // response["output"]["service"]["path"][0]["path-uuid"]
  ASSERT_TRUE(computed.json.contains("output")) << computed.body;
  const std::string path_uuid = computed.json["output"]["service"]["path"][0]["path-uuid"];
  // No capacity given: the config's default bit rate, and the reply says so.
  const Json& lp = computed.json["output"]["service"]["eonops-pce:lightpath"];
  EXPECT_EQ(lp["capacity-gbps"], s_.pce().config().pce.default_bit_rate_gbps);
  EXPECT_EQ(lp["capacity-source"], "default (pce.default_bit_rate_gbps)");
  EXPECT_EQ(computed.json["output"]["service"]["end-point"][0]["capacity"]["total-size"]["value"],
            100);

  RawReply ero = Exchange(
      port(), NextworksHead(
                  "GET",
                  "/data/tapi-common:context/tapi-path-computation:path-computation-context/path=" +
                      path_uuid + "/",
                  port(), 0, false));
  ASSERT_EQ(ero.status, 200) << ero.body;
  const Json& path = ero.json["tapi-path-computation:path"][0];
  EXPECT_EQ(path["uuid"], path_uuid);
  EXPECT_FALSE(path["link"].empty());

  const std::string del = Json{{"input", {{"uuid", path_uuid}}}}.dump();
  RawReply deleted =
      Exchange(port(),
               NextworksHead("POST", "/operations/tapi-path-computation:delete-p-2-p-path/", port(),
                             del.size(), true),
               del);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(deleted.json.contains("output")) << deleted.body;
  EXPECT_TRUE(s_.pce().ListComputedPaths().empty());
}

}  // namespace
}  // namespace eonops::tapi
