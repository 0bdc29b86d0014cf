// TAPI 2.1 / 2.4 JSON for the PCE: requests in, context, topology, services and paths out.
//
// Reading is lenient the way controllers differ: RFC 7951 module prefixes are optional on
// every member ("tapi-path-computation:input" or "input"); 2.1.3's `sep` and 2.4's `end-point`;
// enum (G_6_25GHZ, GBPS, INPUT) or identity (tapi-photonic-media:ADJUSTMENT_GRANULARITY_G_6_25GHZ,
// tapi-common:CAPACITY_UNIT_GBPS, SOURCE) values; topology constraints as uuid lists (2.1.3) or
// keyed objects (2.4), one object or a list of them; uint64 leaves as numbers or strings (RFC
// 7951 writes them as strings); unknown leaves are ignored. Anything malformed is a TapiError
// naming the offending member (error-path).
//
// Writing follows one Dialect: enum spellings for 2.1, identities for 2.4. Every reply carries
// the lightpath as the `eonops-pce:lightpath` augmentation (route, band, modulation, spectrum,
// GSNR and margin, latency, incremental power, policy version, fell-back flag).
//
//   ParsedRequest in = ParseComputeInput(body, ted);           // throws TapiError
//   PathDecision d = pce.ComputePath(in.request);
//   Encoder enc(pce, in.dialect);
//   json out = enc.PathCompService(path, /*with_paths=*/true);
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pce/pce.h"
#include "pce/request.h"
#include "pce/ted.h"
#include "tapi/errors.h"

namespace eonops::tapi {

using Json = nlohmann::json;

enum class Dialect { kV21, kV24 };
Dialect ParseDialect(const std::string& s);  // "2.1", "2.1.3", "2.4", "2.4.1"; throws TapiError

// The member `name` of `obj`, with or without a module prefix; null when absent.
const Json* Member(const Json& obj, const std::string& name);
// The input of an RPC body: {"<module>:input": {...}} or {"input": {...}}; an empty object
// when the body is empty and `optional`.
const Json& RpcInput(const Json& body, const std::string& rpc_path, bool optional);

struct ParsedRequest {
  pce::PathRequest request;
  Dialect dialect = Dialect::kV21;
  bool dialect_known = false;  // whether the request showed which version it speaks
  Json name = Json::array();
};

// compute-p-2-p-path input (already unwrapped from {"input": ...}).
ParsedRequest ParseComputeInput(const Json& input, const pce::TeDatabase& ted,
                                const std::string& path);
// A connectivity-service: the create-connectivity-service input or one data-store entry.
struct ParsedService {
  pce::ServiceSpec spec;
  Dialect dialect = Dialect::kV21;
  bool dialect_known = false;
};
ParsedService ParseConnectivityService(const Json& service, const pce::TeDatabase& ted,
                                       const std::string& path);
// Replaces the routing/topology constraints and the use case of `r` with those in `x` (a
// optimize-p-2-p-path input), when `x` has any; returns whether it had.
bool ApplyConstraints(const Json& x, const std::string& path, const pce::TeDatabase& ted,
                      pce::PathRequest* r);
// The service id of get-connectivity-service-details / delete-connectivity-service input
// (2.1.3 service-id-or-name, 2.4 uuid) or delete-p-2-p-path (path-id-or-name, uuid).
std::string IdFromInput(const Json& input, const std::string& path, Dialect* dialect);

class Encoder {
 public:
  Encoder(const pce::Pce& pce, Dialect dialect);

  Dialect dialect() const { return dialect_; }
  // Occupancy and services are read once per reply, so a reply is one consistent picture.
  void Load(pce::OccupancySnapshot occupancy, std::vector<pce::Service> services);

  Json Context(const std::vector<pce::ComputedPath>& paths) const;
  Json Sip(int node) const;
  Json Sips() const;
  Json TopologyContext() const;
  Json Topology() const;
  Json Node(int node) const;
  Json EdgePoint(const std::string& nep_uuid) const;  // null when unknown
  Json Link(int fibre) const;
  Json ConnectivityContext() const;
  Json Service(const pce::Service& s) const;
  Json PathComputationContext(const std::vector<pce::ComputedPath>& paths) const;
  // The A->Z path, or with `reverse` the Z->A one of a bidirectional request.
  Json Path(const pce::ComputedPath& p, bool with_lightpath = true, bool reverse = false) const;
  // The path-comp-service; with `with_paths`, also the paths themselves (RPC output).
  Json PathCompService(const pce::ComputedPath& p, bool with_paths) const;
  Json Lightpath(const pce::PathDecision& d) const;
  // error-info for a refused request.
  Json BlockInfo(const pce::PathDecision& d) const;

 private:
  Json Band(double lower_hz, double upper_hz) const;
  Json McPool(const std::vector<std::pair<double, double>>& available,
              const std::vector<std::pair<double, double>>& occupied) const;
  Json Supportable() const;
  Json Capacity(const pce::PathRequest& r) const;
  Json EndPoints(const pce::PathRequest& r, const std::vector<const pce::PathDecision*>& decisions,
                 bool service) const;
  Json Constraints(const pce::PathRequest& r, Json* routing) const;
  Json State() const;
  std::string Direction(bool source) const;
  std::vector<std::pair<double, double>> FreeRuns(int fibre, int band) const;
  std::vector<std::pair<double, double>> ChannelsOn(int fibre) const;

  const pce::Pce& pce_;
  const pce::TeDatabase& ted_;
  Dialect dialect_;
  pce::OccupancySnapshot occupancy_;
  std::vector<pce::Service> services_;
  // Lit channels (one per direction of each service) by fibre, and by the node adding or
  // dropping them.
  std::map<int, std::vector<const pce::PathDecision*>> channels_by_fibre_, channels_by_node_;
};

}  // namespace eonops::tapi
