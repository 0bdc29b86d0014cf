#include "pce/ted.h"

#include <cctype>
#include <random>
#include <stdexcept>

#include "tracking/sha256.h"

namespace eonops::pce {

namespace {

std::string FormatUuid(const uint8_t* b) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

}  // namespace

std::string NameUuid(const std::string& key) {
  tracking::Sha256 h;
  h.Update(key);
  auto d = h.Digest();
  d[6] = static_cast<uint8_t>((d[6] & 0x0f) | 0x80);  // version 8 (RFC 9562: custom, here SHA-256)
  d[8] = static_cast<uint8_t>((d[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return FormatUuid(d.data());
}

std::string RandomUuid() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint8_t b[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t x = rng();
    for (int j = 0; j < 8; ++j) b[i + j] = static_cast<uint8_t>(x >> (8 * j));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return FormatUuid(b);
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

TeDatabase::TeDatabase(std::shared_ptr<const twin::NetworkModel> model) : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("TeDatabase: null network model");
  const twin::Topology& t = model_->topology();
  const std::string base = "eonops/" + t.name() + "/";
  context_uuid_ = NameUuid(base + "context");
  topology_uuid_ = NameUuid(base + "topology");
  for (int n = 0; n < t.NumNodes(); ++n) {
    const std::string key = base + "node/" + std::to_string(n);
    node_uuid_.push_back(NameUuid(key));
    sip_uuid_.push_back(NameUuid(key + "/sip"));
    add_drop_nep_uuid_.push_back(NameUuid(key + "/nep/add-drop"));
    node_by_id_[node_uuid_.back()] = n;
    node_by_id_[t.node(n).name] = n;
    sip_by_id_[sip_uuid_.back()] = n;
    edge_by_uuid_[add_drop_nep_uuid_.back()] = {n, EdgeKind::kAddDrop, -1};
  }
  for (int f = 0; f < t.NumFibres(); ++f) {
    const twin::Fibre& fb = t.fibre(f);
    const std::string key = base + "fibre/" + std::to_string(f);
    link_uuid_.push_back(NameUuid(key));
    out_nep_uuid_.push_back(NameUuid(key + "/out"));
    in_nep_uuid_.push_back(NameUuid(key + "/in"));
    link_by_id_[link_uuid_.back()] = f;
    link_by_id_[LinkName(f)] = f;
    edge_by_uuid_[out_nep_uuid_.back()] = {fb.src, EdgeKind::kFibreOut, f};
    edge_by_uuid_[in_nep_uuid_.back()] = {fb.dst, EdgeKind::kFibreIn, f};
  }
}

std::string TeDatabase::LinkName(int fibre) const {
  const twin::Fibre& f = topology().fibre(fibre);
  return NodeName(f.src) + "->" + NodeName(f.dst);
}

std::optional<int> TeDatabase::FindNode(const std::string& id) const {
  auto it = node_by_id_.find(id);
  if (it != node_by_id_.end()) return it->second;
  return std::nullopt;
}

std::optional<int> TeDatabase::FindSip(const std::string& id) const {
  auto it = sip_by_id_.find(id);
  if (it != sip_by_id_.end()) return it->second;
  return FindNode(id);
}

std::optional<int> TeDatabase::FindLink(const std::string& id) const {
  auto it = link_by_id_.find(id);
  if (it != link_by_id_.end()) return it->second;
  return std::nullopt;
}

std::optional<TeDatabase::EdgePoint> TeDatabase::FindEdgePoint(const std::string& uuid) const {
  auto it = edge_by_uuid_.find(uuid);
  if (it != edge_by_uuid_.end()) return it->second;
  return std::nullopt;
}

bool TeDatabase::IsTopology(const std::string& id) const {
  return id == topology_uuid_ || id == topology().name();
}

}  // namespace eonops::pce
