// The traffic-engineering database: the twin's network model seen with TAPI identities.
//
// Every topology element gets a stable, name-derived UUID (RFC 9562 version 8, from SHA-256 of
// "eonops/<topology>/<kind>/<key>"), so a controller's references survive restarts:
//   - one node per ROADM, with one service-interface-point (its transceiver pool, mapped to an
//     add/drop node-edge-point) and, per directed fibre, an OUTPUT edge point at the fibre's
//     source node and an INPUT edge point at its destination;
//   - one UNIDIRECTIONAL link per directed fibre (each fibre has its own spectrum), named
//     "<src>-><dst>".
// Lookups accept a UUID or a name (node name, link "A->B"), so a person can type them.
//
//   TeDatabase ted(model);
//   std::optional<int> n = ted.FindNode("Seattle");     // or its uuid, or its SIP's uuid
//   const std::string& link = ted.LinkUuid(fibre);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "twin/network.h"

namespace eonops::pce {

// A version-8 UUID derived from `key` (same key, same UUID).
std::string NameUuid(const std::string& key);
// A random version-4 UUID.
std::string RandomUuid();
// True for an RFC 4122 textual UUID (8-4-4-4-12 hex digits).
bool IsUuid(const std::string& s);

class TeDatabase {
 public:
  enum class EdgeKind { kAddDrop, kFibreOut, kFibreIn };
  struct EdgePoint {
    int node = -1;
    EdgeKind kind = EdgeKind::kAddDrop;
    int fibre = -1;  // for kFibreOut / kFibreIn
  };

  explicit TeDatabase(std::shared_ptr<const twin::NetworkModel> model);

  const twin::NetworkModel& model() const { return *model_; }
  const std::shared_ptr<const twin::NetworkModel>& model_ptr() const { return model_; }
  const twin::Topology& topology() const { return model_->topology(); }
  int NumNodes() const { return topology().NumNodes(); }
  int NumFibres() const { return topology().NumFibres(); }

  const std::string& ContextUuid() const { return context_uuid_; }
  const std::string& TopologyUuid() const { return topology_uuid_; }
  const std::string& NodeUuid(int node) const { return node_uuid_.at(node); }
  const std::string& SipUuid(int node) const { return sip_uuid_.at(node); }
  const std::string& AddDropNepUuid(int node) const { return add_drop_nep_uuid_.at(node); }
  const std::string& LinkUuid(int fibre) const { return link_uuid_.at(fibre); }
  const std::string& FibreOutNepUuid(int fibre) const { return out_nep_uuid_.at(fibre); }
  const std::string& FibreInNepUuid(int fibre) const { return in_nep_uuid_.at(fibre); }
  const std::string& NodeName(int node) const { return topology().node(node).name; }
  std::string LinkName(int fibre) const;

  // By UUID or name; nullopt when unknown.
  std::optional<int> FindNode(const std::string& id) const;
  std::optional<int> FindSip(const std::string& id) const;  // also accepts the node's uuid/name
  std::optional<int> FindLink(const std::string& id) const;
  std::optional<EdgePoint> FindEdgePoint(const std::string& uuid) const;
  bool IsTopology(const std::string& id) const;

 private:
  std::shared_ptr<const twin::NetworkModel> model_;
  std::string context_uuid_, topology_uuid_;
  std::vector<std::string> node_uuid_, sip_uuid_, add_drop_nep_uuid_, link_uuid_, out_nep_uuid_,
      in_nep_uuid_;
  std::unordered_map<std::string, int> node_by_id_, sip_by_id_, link_by_id_;
  std::unordered_map<std::string, EdgePoint> edge_by_uuid_;
};

}  // namespace eonops::pce
