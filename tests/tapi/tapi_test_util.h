// Helpers for the TAPI tests: a PCE served on an ephemeral loopback port and JSON calls to it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "pce/pce.h"
#include "tapi/server.h"
#include "tests/pce/pce_test_util.h"

namespace eonops::tapi::testing {

using Json = nlohmann::json;
using pce::testing::TempDir;

struct Reply {
  int status = 0;
  Json body;  // null when the body is not JSON
  std::string text;
  std::string content_type, location, www_authenticate;
};

inline Reply ToReply(const httplib::Result& r) {
  Reply out;
  if (!r) {
    ADD_FAILURE() << "HTTP request failed: " << httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.text = r->body;
  out.content_type = r->get_header_value("Content-Type");
  out.location = r->get_header_value("Location");
  out.www_authenticate = r->get_header_value("WWW-Authenticate");
  out.body = Json::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

// The single RFC 8040 error of a reply, or null.
inline Json Error(const Reply& r) {
  if (!r.body.is_object() || !r.body.contains("ietf-restconf:errors")) return nullptr;
  const Json& list = r.body["ietf-restconf:errors"]["error"];
  return list.is_array() && list.size() == 1 ? list[0] : Json();
}

// A PCE on SmallConfig (or the given config) behind a TapiServer on 127.0.0.1:<ephemeral>.
class Server {
 public:
  explicit Server(pce::PceConfig config = pce::testing::SmallConfig(), pce::PceSetup setup = {},
                  const std::string& token_file = "") {
    pce_ = std::make_unique<pce::Pce>(config, setup);
    TapiServerOptions o = TapiServerOptions::FromConfig(config);
    o.port = 0;
    o.token_file = token_file;
    server_ = std::make_unique<TapiServer>(*pce_, o);
    port_ = server_->Start();
    client_ = NewClient();
  }
  ~Server() {
    client_.reset();
    server_->Stop();
  }
  std::unique_ptr<httplib::Client> NewClient() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(30, 0);
    c->set_write_timeout(30, 0);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    return c;
  }
  pce::Pce& pce() { return *pce_; }
  TapiServer& server() { return *server_; }
  int port() const { return port_; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  Reply Get(const std::string& path, const httplib::Headers& h = {}) {
    return ToReply(client_->Get(path.c_str(), h));
  }
  Reply Post(const std::string& path, const Json& body, const httplib::Headers& h = {}) {
    return ToReply(client_->Post(path.c_str(), h, body.dump(), "application/yang-data+json"));
  }
  Reply PostRaw(const std::string& path, const std::string& body,
                const std::string& type = "application/json", const httplib::Headers& h = {}) {
    return ToReply(client_->Post(path.c_str(), h, body, type.c_str()));
  }
  Reply Delete(const std::string& path, const httplib::Headers& h = {}) {
    return ToReply(client_->Delete(path.c_str(), h));
  }
  Reply Put(const std::string& path, const Json& body) {
    return ToReply(client_->Put(path.c_str(), body.dump(), "application/yang-data+json"));
  }

 private:
  std::unique_ptr<pce::Pce> pce_;
  std::unique_ptr<TapiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

// A create-connectivity-service body (data-store form) from SIP `a` to SIP `z`.
inline Json ServiceBody(const std::string& a, const std::string& z, int gbps,
                        const std::string& uuid = "", bool bidirectional = false) {
  Json svc = {
      {"end-point",
       {{{"local-id", "a"}, {"service-interface-point", {{"service-interface-point-uuid", a}}}},
        {{"local-id", "z"}, {"service-interface-point", {{"service-interface-point-uuid", z}}}}}},
      {"connectivity-constraint",
       {{"requested-capacity", {{"total-size", {{"value", gbps}, {"unit", "GBPS"}}}}},
        {"connectivity-direction", bidirectional ? "BIDIRECTIONAL" : "UNIDIRECTIONAL"}}}};
  if (!uuid.empty()) svc["uuid"] = uuid;
  return {{"tapi-connectivity:connectivity-service", {svc}}};
}

// A TAPI 2.1.3 compute-p-2-p-path input (sep, uuid lists).
inline Json ComputeInput21(const std::string& a, const std::string& z, int gbps) {
  return {{"tapi-path-computation:input",
           {{"sep",
             {{{"local-id", "a"},
               {"service-interface-point", {{"service-interface-point-uuid", a}}},
               {"capacity", {{"total-size", {{"value", gbps}, {"unit", "GBPS"}}}}}},
              {{"local-id", "z"},
               {"service-interface-point", {{"service-interface-point-uuid", z}}}}}}}}};
}

constexpr const char* kContext = "/restconf/data/tapi-common:context";
constexpr const char* kConnectivity =
    "/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context";
constexpr const char* kCompute = "/restconf/operations/tapi-path-computation:compute-p-2-p-path";

}  // namespace eonops::tapi::testing

namespace eonops::tapi::testing {

// The occupancy invariant as a client sees it: on every fibre (its OUTPUT edge point) the
// occupied spectrum is exactly the media channels of the services routed over it, channels on
// one fibre never overlap, and available + occupied never overlap. Returns "" or what is wrong.
inline std::string CheckOccupancyAgainstServices(const Json& context) {
  const Json& ctx = context.at("tapi-common:context");
  std::map<std::string, std::multiset<std::pair<int64_t, int64_t>>> expected;  // link -> channels
  for (const auto& s :
       ctx.at("tapi-connectivity:connectivity-context").at("connectivity-service")) {
    // Every direction: A->Z, and Z->A of a bidirectional service (never one without the other).
    if (s.at("direction") == "BIDIRECTIONAL" && !s.contains("eonops-pce:reverse-lightpath"))
      return "bidirectional service " + s.at("uuid").get<std::string>() + " has one direction";
    for (const char* key : {"eonops-pce:lightpath", "eonops-pce:reverse-lightpath"}) {
      if (!s.contains(key)) continue;
      const Json& lp = s.at(key);
      const std::pair<int64_t, int64_t> ch = {
          lp.at("spectrum").at("lower-frequency").get<int64_t>(),
          lp.at("spectrum").at("upper-frequency").get<int64_t>()};
      for (const auto& l : lp.at("route"))
        expected[l.at("link-uuid").get<std::string>()].insert(ch);
    }
  }
  const Json& topo = ctx.at("tapi-topology:topology-context").at("topology").at(0);
  std::map<std::string, std::string> out_nep_link;
  for (const auto& l : topo.at("link"))
    out_nep_link[l.at("node-edge-point").at(0).at("node-edge-point-uuid")] = l.at("uuid");
  size_t fibres = 0;
  for (const auto& n : topo.at("node")) {
    for (const auto& nep : n.at("owned-node-edge-point")) {
      auto it = out_nep_link.find(nep.at("uuid"));
      if (it == out_nep_link.end()) continue;
      ++fibres;
      const Json& pool =
          nep.at("tapi-photonic-media:media-channel-node-edge-point-spec").at("mc-pool");
      std::multiset<std::pair<int64_t, int64_t>> occupied;
      std::vector<std::pair<int64_t, int64_t>> all;
      for (const auto& b : pool.at("occupied-spectrum")) {
        occupied.insert(
            {b.at("lower-frequency").get<int64_t>(), b.at("upper-frequency").get<int64_t>()});
        all.push_back(
            {b.at("lower-frequency").get<int64_t>(), b.at("upper-frequency").get<int64_t>()});
      }
      for (const auto& b : pool.at("available-spectrum")) {
        all.push_back(
            {b.at("lower-frequency").get<int64_t>(), b.at("upper-frequency").get<int64_t>()});
      }
      if (occupied != expected[it->second])
        return "link " + it->second + ": occupied spectrum differs from its services";
      std::sort(all.begin(), all.end());
      for (size_t i = 1; i < all.size(); ++i) {
        if (all[i].first < all[i - 1].second)
          return "link " + it->second + ": overlapping spectrum";
      }
    }
  }
  if (fibres != topo.at("link").size()) return "not every link has an OUTPUT edge point";
  return "";
}

}  // namespace eonops::tapi::testing
