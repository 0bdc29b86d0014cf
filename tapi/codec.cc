#include "tapi/codec.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace eonops::tapi {

namespace {

constexpr int64_t kAnchorMhz = 193100000;
constexpr int64_t kCentreGranularityMhz = 6250;
constexpr int64_t kWidthGranularityMhz = 12500;

[[noreturn]] void Invalid(const std::string& path, const std::string& message) {
  throw TapiError(ErrorCode::kInvalidValue, message, path);
}
[[noreturn]] void Missing(const std::string& path, const std::string& message) {
  throw TapiError(ErrorCode::kMissingElement, message, path);
}

std::string StringAt(const Json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  Invalid(path, "expected a string, got " + std::string(v.type_name()));
}

double NumberAt(const Json& v, const std::string& path) {
  double x = 0.0;
  if (v.is_number()) {
    x = v.get<double>();
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    x = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size())
      Invalid(path, "expected a number, got \"" + s.substr(0, 64) + "\"");
  } else {
    Invalid(path, "expected a number, got " + std::string(v.type_name()));
  }
  if (!std::isfinite(x)) Invalid(path, "expected a finite number");
  return x;
}

// An object, or a list of objects, as a list (RFC 7951 lists are arrays; some clients send one
// entry as an object).
std::vector<const Json*> Entries(const Json& v, const std::string& path) {
  std::vector<const Json*> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(&e);
  } else if (v.is_object() || v.is_string()) {
    out.push_back(&v);
  } else if (!v.is_null()) {
    Invalid(path, "expected a list, got " + std::string(v.type_name()));
  }
  return out;
}

// Enum or identity value, reduced to the enum spelling: "tapi-common:CAPACITY_UNIT_GBPS" ->
// "GBPS". Sets *identity when the value was written as an identity.
std::string EnumOf(const Json& v, const std::string& path, const std::string& identity_prefix,
                   bool* identity) {
  std::string s = StringAt(v, path);
  bool id = false;
  if (auto c = s.find(':'); c != std::string::npos) {
    s = s.substr(c + 1);
    id = true;
  }
  for (char& ch : s)
    ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!identity_prefix.empty() && s.rfind(identity_prefix, 0) == 0 &&
      s.size() > identity_prefix.size()) {
    s = s.substr(identity_prefix.size());
    id = true;
  }
  if (id && identity) *identity = true;
  return s;
}

struct Hints {
  bool v21 = false, v24 = false;
  Dialect Get(bool* known) const {
    *known = v21 || v24;
    return v24 && !v21 ? Dialect::kV24 : Dialect::kV21;
  }
};

// What a TAPI capacity asks for: a bit rate (Gb/s) or, in a frequency unit, a media channel of
// that much spectrum (Hz). TAPI's capacity-unit has both kinds: TBPS/GBPS/MBPS/KBPS and
// GHz/MHz (2.1 enum; CAPACITY_UNIT_GHZ... as 2.4 identities).
struct Capacity {
  double bit_rate_gbps = 0.0;
  double spectrum_width_hz = 0.0;
  bool SameAs(const Capacity& o) const {
    return std::abs(bit_rate_gbps - o.bit_rate_gbps) < 1e-9 &&
           std::abs(spectrum_width_hz - o.spectrum_width_hz) < 1e-3;
  }
};

// An empty container ({}, or a total-size of {}) asks for nothing: nullopt, and the PCE's
// default applies.
std::optional<Capacity> CapacityOf(const Json& cap, const std::string& path, Hints* h) {
  if (!cap.is_object()) Invalid(path, "expected an object with total-size");
  if (cap.empty()) return std::nullopt;
  const Json* total = Member(cap, "total-size");
  const Json& t = total ? *total : cap;  // some clients put value/unit directly under capacity
  const std::string tp = total ? path + "/total-size" : path;
  if (!t.is_object()) Invalid(tp, "expected an object with value and unit");
  if (t.empty()) return std::nullopt;
  const Json* value = Member(t, "value");
  if (!value) Missing(tp + "/value", "a capacity needs a value (or leave the container empty)");
  const double x = NumberAt(*value, tp + "/value");
  std::string unit = "GBPS";
  if (const Json* u = Member(t, "unit")) {
    bool identity = false;
    unit = EnumOf(*u, tp + "/unit", "CAPACITY_UNIT_", &identity);
    (identity ? h->v24 : h->v21) = true;
  }
  if (!(x > 0)) Invalid(tp + "/value", "capacity must be positive");
  static const std::map<std::string, double> kGbps = {
      {"TBPS", 1e3}, {"GBPS", 1.0}, {"MBPS", 1e-3}, {"KBPS", 1e-6}};
  static const std::map<std::string, double> kHz = {{"THZ", 1e12}, {"GHZ", 1e9}, {"MHZ", 1e6}};
  Capacity c;
  if (auto it = kGbps.find(unit); it != kGbps.end()) {
    c.bit_rate_gbps = x * it->second;
  } else if (auto f = kHz.find(unit); f != kHz.end()) {
    c.spectrum_width_hz = x * f->second;
  } else if (unit == "TB" || unit == "GB" || unit == "MB" || unit == "KB") {
    Invalid(tp + "/unit",
            "'" + unit + "' is an amount of data, not a rate: use GBPS (or GHz for spectrum)");
  } else {
    Invalid(tp + "/unit", "unknown capacity unit '" + unit +
                              "' (a bit rate: TBPS, GBPS, MBPS, KBPS; spectrum: GHz, MHz)");
  }
  return c;
}

// The one capacity of a request, from wherever it was given; they must agree.
void MergeCapacity(const std::optional<Capacity>& c, const std::string& path,
                   std::optional<Capacity>* merged) {
  if (!c) return;
  if (*merged && !(*merged)->SameAs(*c))
    Invalid(path, "the capacities of the request disagree (end-points and requested-capacity)");
  *merged = c;
}

void ApplyCapacity(const std::optional<Capacity>& c, pce::PathRequest* r) {
  // Neither: the PCE applies its default bit rate (Pce::WithDefaults) and says so in the reply.
  r->bit_rate_gbps = c ? c->bit_rate_gbps : 0.0;
  r->spectrum_width_hz = c ? c->spectrum_width_hz : 0.0;
}

pce::PathRequest::MediaChannel SpectrumOf(const Json& sp, const std::string& path,
                                          const pce::TeDatabase& ted, Hints* h) {
  if (!sp.is_object()) Invalid(path, "expected an object with lower-frequency and upper-frequency");
  const Json* lo = Member(sp, "lower-frequency");
  const Json* hi = Member(sp, "upper-frequency");
  if (!lo || !hi) Missing(path, "a spectrum needs lower-frequency and upper-frequency (MHz)");
  if (const Json* fc = Member(sp, "frequency-constraint")) {
    if (const Json* g = Member(*fc, "grid-type")) {
      bool identity = false;
      const std::string grid =
          EnumOf(*g, path + "/frequency-constraint/grid-type", "GRID_TYPE_", &identity);
      (identity ? h->v24 : h->v21) = true;
      if (grid != "FLEX")
        Invalid(path + "/frequency-constraint/grid-type",
                "only the FLEX grid is served, got " + grid);
    }
  }
  const double lf = NumberAt(*lo, path + "/lower-frequency"),
               uf = NumberAt(*hi, path + "/upper-frequency");
  // Optical bands lie between 100 and 1000 THz; outside that the MHz arithmetic below could
  // overflow int64 (l + u for two values near 9e18: undefined behaviour, which UBSan reports on
  // fuzz/corpus/fuzz_tapi_decoder/regression-spectrum-frequency-overflow.json).
  constexpr double kMinMhz = 1e8, kMaxMhz = 1e9;
  if (!(lf >= kMinMhz && lf <= kMaxMhz && uf >= kMinMhz && uf <= kMaxMhz))
    Invalid(path, "frequencies are in MHz between 100 and 1000 THz (e.g. 193100000)");
  const int64_t l = std::llround(lf), u = std::llround(uf);
  if (std::abs(lf - l) > 1e-3 || std::abs(uf - u) > 1e-3)
    Invalid(path, "frequencies are integral MHz");
  if (u <= l) Invalid(path, "upper-frequency must be above lower-frequency");
  const int64_t width = u - l, twice_centre = l + u - 2 * kAnchorMhz;
  if (width % kWidthGranularityMhz) Invalid(path, "the width must be m x 12500 MHz");
  if (twice_centre % (2 * kCentreGranularityMhz))
    Invalid(path, "the centre must be 193100000 + n x 6250 MHz");
  pce::PathRequest::MediaChannel mc;
  if (!ted.model().plan().GridToSlots(static_cast<int>(twice_centre / (2 * kCentreGranularityMhz)),
                                      static_cast<int>(width / kWidthGranularityMhz), &mc.band,
                                      &mc.slot, &mc.width)) {
    Invalid(path, "the media channel " + std::to_string(l) + ".." + std::to_string(u) +
                      " MHz is not inside one band");
  }
  return mc;
}

struct EndPoint {
  int node = -1;
  int role = 0;  // +1 source, -1 sink, 0 unspecified
  std::optional<Capacity> capacity;
  std::optional<pce::PathRequest::MediaChannel> spectrum;
};

void CheckLayer(const Json& v, const std::string& path, Hints* h) {
  bool identity = false;
  const std::string layer = EnumOf(v, path, "LAYER_PROTOCOL_NAME_", &identity);
  if (identity) h->v24 = true;
  if (layer != "PHOTONIC_MEDIA")
    Invalid(path, "this PCE serves the PHOTONIC_MEDIA layer, got " + layer);
}

EndPoint ParseEndPoint(const Json& ep, const std::string& path, const pce::TeDatabase& ted,
                       Hints* h) {
  if (!ep.is_object()) Invalid(path, "expected an end-point object");
  EndPoint e;
  const Json* sip = Member(ep, "service-interface-point");
  if (!sip)
    Missing(path + "/service-interface-point", "an end-point needs a service-interface-point");
  std::string id;
  if (sip->is_object()) {
    const Json* u = Member(*sip, "service-interface-point-uuid");
    if (!u)
      Missing(path + "/service-interface-point/service-interface-point-uuid",
              "missing service-interface-point-uuid");
    id = StringAt(*u, path + "/service-interface-point/service-interface-point-uuid");
  } else {
    id = StringAt(*sip, path + "/service-interface-point");
  }
  auto node = ted.FindSip(id);
  if (!node)
    Invalid(path + "/service-interface-point",
            "unknown service-interface-point " + id.substr(0, 128));
  e.node = *node;
  if (const Json* d = Member(ep, "direction")) {
    bool identity = false;
    const std::string dir = EnumOf(*d, path + "/direction", "PORT_DIRECTION_", &identity);
    if (dir == "INPUT") {
      e.role = +1;
      h->v21 = true;
    } else if (dir == "SOURCE") {
      e.role = +1;
      h->v24 = true;
    } else if (dir == "OUTPUT") {
      e.role = -1;
      h->v21 = true;
    } else if (dir == "SINK") {
      e.role = -1;
      h->v24 = true;
    } else if (dir != "BIDIRECTIONAL" && dir != "UNDEFINED_OR_UNKNOWN") {
      Invalid(path + "/direction", "unknown direction " + dir);
    }
  }
  if (const Json* l = Member(ep, "layer-protocol-name"))
    CheckLayer(*l, path + "/layer-protocol-name", h);
  if (const Json* c = Member(ep, "capacity")) e.capacity = CapacityOf(*c, path + "/capacity", h);
  const std::string mc =
      path +
      "/tapi-photonic-media:media-channel-connectivity-service-end-point-spec/mc-config/spectrum";
  if (const Json* spec = Member(ep, "media-channel-connectivity-service-end-point-spec")) {
    if (const Json* cfg = Member(*spec, "mc-config")) {
      if (const Json* sp = Member(*cfg, "spectrum")) e.spectrum = SpectrumOf(*sp, mc, ted, h);
    }
  }
  if (!e.spectrum) {
    const std::string op =
        path + "/tapi-photonic-media:otsi-connectivity-service-end-point-spec/otsi-config/spectrum";
    if (const Json* spec = Member(ep, "otsi-connectivity-service-end-point-spec")) {
      if (const Json* cfg = Member(*spec, "otsi-config")) {
        if (const Json* sp = Member(*cfg, "spectrum")) e.spectrum = SpectrumOf(*sp, op, ted, h);
      }
    }
  }
  return e;
}

void AddUnique(std::vector<int>* v, int x) {
  if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
}

void ParseTopologyConstraints(const Json& tcs, const std::string& path, const pce::TeDatabase& ted,
                              pce::PathRequest* r, Hints* h) {
  if (tcs.is_array()) h->v24 = true;  // 2.4 made topology-constraint a list
  size_t index = 0;
  for (const Json* tc : Entries(tcs, path)) {
    const std::string p = tcs.is_array() ? path + "[" + std::to_string(index++) + "]" : path;
    if (!tc->is_object()) Invalid(p, "expected a topology-constraint object");
    auto check_topology = [&](const Json& e, const std::string& ep) {
      if (const Json* t = Member(e, "topology-uuid")) {
        const std::string id = StringAt(*t, ep + "/topology-uuid");
        if (!ted.IsTopology(id))
          Invalid(ep + "/topology-uuid", "unknown topology " + id.substr(0, 128));
      }
    };
    for (const char* kind : {"include-link", "exclude-link"}) {
      const Json* list = Member(*tc, kind);
      if (!list) continue;
      const std::string lp = p + "/" + kind;
      for (const Json* e : Entries(*list, lp)) {
        std::string id;
        if (e->is_object()) {
          h->v24 = true;
          check_topology(*e, lp);
          const Json* u = Member(*e, "link-uuid");
          if (!u) Missing(lp + "/link-uuid", "a link reference needs link-uuid");
          id = StringAt(*u, lp + "/link-uuid");
        } else {
          h->v21 = true;
          id = StringAt(*e, lp);
        }
        auto f = ted.FindLink(id);
        if (!f) Invalid(lp, "unknown link " + id.substr(0, 128));
        AddUnique(kind[0] == 'i' ? &r->include_links : &r->exclude_links, *f);
      }
    }
    for (const char* kind : {"include-node", "exclude-node"}) {
      const Json* list = Member(*tc, kind);
      if (!list) continue;
      const std::string lp = p + "/" + kind;
      for (const Json* e : Entries(*list, lp)) {
        std::string id;
        if (e->is_object()) {
          h->v24 = true;
          check_topology(*e, lp);
          const Json* u = Member(*e, "node-uuid");
          if (!u) Missing(lp + "/node-uuid", "a node reference needs node-uuid");
          id = StringAt(*u, lp + "/node-uuid");
        } else {
          h->v21 = true;
          id = StringAt(*e, lp);
        }
        auto n = ted.FindNode(id);
        if (!n) Invalid(lp, "unknown node " + id.substr(0, 128));
        AddUnique(kind[0] == 'i' ? &r->include_nodes : &r->exclude_nodes, *n);
      }
    }
    for (const char* kind : {"include-node-edge-point", "exclude-node-edge-point"}) {
      const Json* list = Member(*tc, kind);
      if (!list) continue;
      const std::string lp = p + "/" + kind;
      for (const Json* e : Entries(*list, lp)) {
        std::string id;
        if (e->is_object()) {
          check_topology(*e, lp);
          const Json* u = Member(*e, "node-edge-point-uuid");
          if (!u)
            Missing(lp + "/node-edge-point-uuid",
                    "a node-edge-point reference needs node-edge-point-uuid");
          id = StringAt(*u, lp + "/node-edge-point-uuid");
        } else {
          id = StringAt(*e, lp);
        }
        auto nep = ted.FindEdgePoint(id);
        if (!nep) Invalid(lp, "unknown node-edge-point " + id.substr(0, 128));
        const bool include = kind[0] == 'i';
        if (nep->kind == pce::TeDatabase::EdgeKind::kAddDrop) {
          AddUnique(include ? &r->include_nodes : &r->exclude_nodes, nep->node);
        } else {
          AddUnique(include ? &r->include_links : &r->exclude_links, nep->fibre);
        }
      }
    }
    for (const char* kind : {"include-topology", "avoid-topology", "exclude-topology"}) {
      const Json* list = Member(*tc, kind);
      if (!list) continue;
      const std::string lp = p + "/" + kind;
      for (const Json* e : Entries(*list, lp)) {
        const std::string id = e->is_object() && Member(*e, "topology-uuid")
                                   ? StringAt(*Member(*e, "topology-uuid"), lp)
                                   : StringAt(*e, lp);
        if (!ted.IsTopology(id)) Invalid(lp, "unknown topology " + id.substr(0, 128));
        if (kind[0] != 'i') Invalid(lp, "excluding the only topology leaves no path");
      }
    }
    for (const char* kind : {"include-path", "exclude-path"}) {
      const Json* list = Member(*tc, kind);
      if (list && !Entries(*list, p + "/" + kind).empty()) {
        Invalid(
            p + "/" + kind,
            std::string(kind) + " is not supported by this PCE; use include/exclude link or node");
      }
    }
  }
}

// Constraints shared by compute-p-2-p-path input and connectivity services: routing and
// topology constraints, objective and use case.
void ParseConstraints(const Json& x, const std::string& path, const pce::TeDatabase& ted,
                      pce::PathRequest* r, Hints* h) {
  std::optional<twin::UseCase> objective;
  if (const Json* rc = Member(x, "routing-constraint")) {
    const std::string rp = path + "/routing-constraint";
    if (!rc->is_object()) Invalid(rp, "expected an object");
    if (const Json* d = Member(*rc, "max-allowed-delay")) {
      const Json* v = d->is_object() ? Member(*d, "value") : d;
      if (v) {
        const double us = NumberAt(*v, rp + "/max-allowed-delay/value");
        if (!(us > 0))
          Invalid(rp + "/max-allowed-delay/value",
                  "the delay bound (microseconds) must be positive");
        r->latency_bound_us = us;
      }
    }
    if (const Json* f = Member(*rc, "route-objective-function")) {
      bool identity = false;
      const std::string rof =
          EnumOf(*f, rp + "/route-objective-function", "ROUTE_OBJECTIVE_FUNCTION_", &identity);
      if (identity) h->v24 = true;
      if (rof.find("LATENCY") != std::string::npos) objective = twin::UseCase::kLatencyRsa;
    }
  }
  if (const Json* l = Member(x, "latency-bound-us")) {
    const double us = NumberAt(*l, path + "/eonops-pce:latency-bound-us");
    if (!(us > 0)) Invalid(path + "/eonops-pce:latency-bound-us", "must be positive");
    r->latency_bound_us = us;
  }
  if (const Json* tc = Member(x, "topology-constraint"))
    ParseTopologyConstraints(*tc, path + "/topology-constraint", ted, r, h);
  std::optional<std::string> use_case;
  if (const Json* of = Member(x, "objective-function")) {
    for (const Json* o : Entries(*of, path + "/objective-function")) {
      if (!o->is_object()) continue;
      if (const Json* names = Member(*o, "name")) {
        for (const Json* n : Entries(*names, path + "/objective-function/name")) {
          const Json* vn = n->is_object() ? Member(*n, "value-name") : nullptr;
          const Json* vv = n->is_object() ? Member(*n, "value") : nullptr;
          if (vn && vv && vn->is_string() && vn->get<std::string>() == "use-case") {
            use_case = StringAt(*vv, path + "/objective-function/name/value");
          }
        }
      }
    }
  }
  if (const Json* u = Member(x, "use-case")) use_case = StringAt(*u, path + "/eonops-pce:use-case");
  if (use_case) {
    try {
      r->use_case = twin::ParseUseCase(*use_case);
    } catch (const std::invalid_argument& e) {
      Invalid(path + "/eonops-pce:use-case", e.what());
    }
  } else if (objective) {
    r->use_case = objective;
  }
}

void AssignEndPoints(const std::vector<EndPoint>& eps, const std::string& path,
                     pce::PathRequest* r) {
  if (eps.size() != 2) {
    Invalid(path, "a point-to-point request needs exactly two end-points, got " +
                      std::to_string(eps.size()));
  }
  int src = 0;
  if (eps[0].role == -1 || eps[1].role == +1) src = 1;
  if ((eps[0].role != 0 && eps[0].role == eps[1].role))
    Invalid(path, "both end-points have the same direction");
  r->src = eps[src].node;
  r->dst = eps[1 - src].node;
  if (r->src == r->dst) Invalid(path, "both end-points are on the same node");
}

// connectivity-direction (or direction): BIDIRECTIONAL asks for both directions at once.
void CheckDirection(const Json& x, const std::string& path, Hints* h, pce::PathRequest* r) {
  const Json* d = Member(x, "connectivity-direction");
  if (!d) d = Member(x, "direction");
  if (!d || !d->is_string()) return;
  bool identity = false;
  const std::string dir = EnumOf(*d, path, "FORWARDING_DIRECTION_", &identity);
  if (identity) h->v24 = true;
  if (dir == "BIDIRECTIONAL") {
    r->bidirectional = true;
  } else if (dir == "UNIDIRECTIONAL" || dir == "UNDEFINED_OR_UNKNOWN") {
    r->bidirectional = false;
  } else {
    Invalid(path, "unknown direction " + dir + " (UNIDIRECTIONAL or BIDIRECTIONAL)");
  }
}

}  // namespace

Dialect ParseDialect(const std::string& s) {
  if (s == "2.1" || s == "2.1.3" || s == "21") return Dialect::kV21;
  if (s == "2.4" || s == "2.4.1" || s == "24") return Dialect::kV24;
  throw TapiError(ErrorCode::kInvalidValue,
                  "unknown TAPI version '" + s.substr(0, 32) + "' (2.1 or 2.4)", "tapi-version");
}

const Json* Member(const Json& obj, const std::string& name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  if (it != obj.end()) return &*it;
  // "<module>:<name>": compare the part after the first colon, without allocating.
  for (auto i = obj.begin(); i != obj.end(); ++i) {
    const std::string& k = i.key();
    const auto c = k.find(':');
    if (c != std::string::npos && k.size() - c - 1 == name.size() &&
        k.compare(c + 1, std::string::npos, name) == 0) {
      return &i.value();
    }
  }
  return nullptr;
}

const Json& RpcInput(const Json& body, const std::string& path, bool optional) {
  static const Json kEmpty = Json::object();
  if (body.is_null() || (body.is_object() && body.empty())) {
    if (optional) return kEmpty;
    Missing(path + "/input", "the RPC needs an input");
  }
  if (!body.is_object()) Invalid(path, "expected a JSON object with an input member");
  const Json* in = Member(body, "input");
  if (!in) {
    if (optional) return kEmpty;
    Missing(path + "/input",
            "the RPC body needs an \"input\" (or module-qualified \"<module>:input\") member");
  }
  if (!in->is_object()) Invalid(path + "/input", "expected an object");
  return *in;
}

ParsedRequest ParseComputeInput(const Json& input, const pce::TeDatabase& ted,
                                const std::string& path) {
  ParsedRequest out;
  Hints h;
  const std::string ip = path + "/input";
  const Json* eps = Member(input, "end-point");
  std::string ep_name = "end-point";
  if (!eps) {
    eps = Member(input, "sep");
    ep_name = "sep";
    if (eps) h.v21 = true;
  } else {
    h.v24 = true;
  }
  if (!eps)
    Missing(ip + "/end-point",
            "compute-p-2-p-path needs two end-points (end-point, or sep in TAPI 2.1)");
  std::vector<EndPoint> parsed;
  const auto list = Entries(*eps, ip + "/" + ep_name);
  for (size_t i = 0; i < list.size(); ++i) {
    parsed.push_back(
        ParseEndPoint(*list[i], ip + "/" + ep_name + "[" + std::to_string(i) + "]", ted, &h));
  }
  AssignEndPoints(parsed, ip + "/" + ep_name, &out.request);
  std::optional<Capacity> cap;
  for (const auto& e : parsed) MergeCapacity(e.capacity, ip + "/" + ep_name, &cap);
  if (const Json* rc = Member(input, "requested-capacity"))
    MergeCapacity(CapacityOf(*rc, ip + "/requested-capacity", &h), ip + "/requested-capacity",
                  &cap);
  ApplyCapacity(cap, &out.request);
  for (const auto& e : parsed) {
    if (e.spectrum) out.request.spectrum = e.spectrum;
  }
  ParseConstraints(input, ip, ted, &out.request, &h);
  if (const Json* l = Member(input, "layer-protocol-name"))
    CheckLayer(*l, ip + "/layer-protocol-name", &h);
  CheckDirection(input, ip + "/direction", &h, &out.request);
  if (const Json* n = Member(input, "name"); n && n->is_array()) out.name = *n;
  out.dialect = h.Get(&out.dialect_known);
  return out;
}

ParsedService ParseConnectivityService(const Json& svc, const pce::TeDatabase& ted,
                                       const std::string& path) {
  ParsedService out;
  Hints h;
  if (!svc.is_object()) Invalid(path, "expected a connectivity-service object");
  if (const Json* u = Member(svc, "uuid")) {
    std::string id = StringAt(*u, path + "/uuid");
    if (id.empty() || id.size() > 128) Invalid(path + "/uuid", "a uuid is 1 to 128 characters");
    for (unsigned char c : id) {
      if (c <= 0x20 || c >= 0x7f || c == '/' || c == '%' || c == '?' || c == '#' || c == '=' ||
          c == '"' || c == '\\') {
        Invalid(path + "/uuid",
                "a uuid is printable ASCII without spaces, /, %, ?, #, =, quotes or backslashes");
      }
    }
    out.spec.uuid = id;
  }
  if (const Json* n = Member(svc, "name"); n && n->is_array()) out.spec.name = *n;
  const Json* eps = Member(svc, "end-point");
  if (!eps) Missing(path + "/end-point", "a connectivity-service needs two end-points");
  std::vector<EndPoint> parsed;
  const auto list = Entries(*eps, path + "/end-point");
  for (size_t i = 0; i < list.size(); ++i) {
    parsed.push_back(
        ParseEndPoint(*list[i], path + "/end-point[" + std::to_string(i) + "]", ted, &h));
  }
  pce::PathRequest& r = out.spec.request;
  AssignEndPoints(parsed, path + "/end-point", &r);
  std::optional<Capacity> cap;
  const Json* cc = Member(svc, "connectivity-constraint");
  if (cc && !cc->is_object()) Invalid(path + "/connectivity-constraint", "expected an object");
  if (cc) {
    h.v21 = true;
    const std::string cp = path + "/connectivity-constraint";
    if (const Json* rc = Member(*cc, "requested-capacity"))
      MergeCapacity(CapacityOf(*rc, cp + "/requested-capacity", &h), cp, &cap);
    CheckDirection(*cc, cp + "/connectivity-direction", &h, &r);
    if (const Json* l = Member(*cc, "service-layer")) CheckLayer(*l, cp + "/service-layer", &h);
    ParseConstraints(*cc, cp, ted, &r, &h);
  }
  if (const Json* rc = Member(svc, "requested-capacity"))
    MergeCapacity(CapacityOf(*rc, path + "/requested-capacity", &h), path, &cap);
  for (const auto& e : parsed) MergeCapacity(e.capacity, path + "/end-point", &cap);
  ApplyCapacity(cap, &r);
  for (const auto& e : parsed) {
    if (e.spectrum) r.spectrum = e.spectrum;
  }
  ParseConstraints(svc, path, ted, &r, &h);
  CheckDirection(svc, path + "/connectivity-direction", &h, &r);
  if (const Json* l = Member(svc, "layer-protocol-name"))
    CheckLayer(*l, path + "/layer-protocol-name", &h);
  if (const Json* l = Member(svc, "service-layer")) CheckLayer(*l, path + "/service-layer", &h);
  out.dialect = h.Get(&out.dialect_known);
  return out;
}

bool ApplyConstraints(const Json& x, const std::string& path, const pce::TeDatabase& ted,
                      pce::PathRequest* r) {
  if (!Member(x, "routing-constraint") && !Member(x, "topology-constraint") &&
      !Member(x, "objective-function") && !Member(x, "use-case") &&
      !Member(x, "latency-bound-us")) {
    return false;
  }
  pce::PathRequest fresh = *r;
  fresh.latency_bound_us = std::numeric_limits<double>::infinity();
  fresh.include_links.clear();
  fresh.exclude_links.clear();
  fresh.include_nodes.clear();
  fresh.exclude_nodes.clear();
  fresh.use_case.reset();
  Hints h;
  ParseConstraints(x, path, ted, &fresh, &h);
  *r = fresh;
  return true;
}

std::string IdFromInput(const Json& input, const std::string& path, Dialect* dialect) {
  for (const char* k : {"service-id-or-name", "path-id-or-name"}) {
    if (const Json* v = Member(input, k)) {
      if (dialect) *dialect = Dialect::kV21;
      return StringAt(*v, path + "/input/" + k);
    }
  }
  for (const char* k : {"uuid", "service-uuid", "path-uuid"}) {
    if (const Json* v = Member(input, k)) {
      if (dialect) *dialect = Dialect::kV24;
      return StringAt(*v, path + "/input/" + k);
    }
  }
  Missing(path + "/input",
          "the input needs the id: service-id-or-name / path-id-or-name (TAPI 2.1) or uuid (2.4)");
}

// ---------------------------------------------------------------------------------------------
// Encoder

Encoder::Encoder(const pce::Pce& pce, Dialect dialect)
    : pce_(pce), ted_(pce.ted()), dialect_(dialect) {}

void Encoder::Load(pce::OccupancySnapshot occupancy, std::vector<pce::Service> services) {
  occupancy_ = std::move(occupancy);
  services_ = std::move(services);
  channels_by_fibre_.clear();
  channels_by_node_.clear();
  for (const auto& s : services_) {
    for (const pce::PathDecision* d : s.Directions()) {
      for (int f : d->fibres) channels_by_fibre_[f].push_back(d);
      channels_by_node_[d->nodes.front()].push_back(d);
      channels_by_node_[d->nodes.back()].push_back(d);
    }
  }
}

Json Encoder::Band(double lower_hz, double upper_hz) const {
  const bool v24 = dialect_ == Dialect::kV24;
  return {{"lower-frequency", std::llround(lower_hz / 1e6)},
          {"upper-frequency", std::llround(upper_hz / 1e6)},
          {"frequency-constraint",
           {{"adjustment-granularity",
             v24 ? "tapi-photonic-media:ADJUSTMENT_GRANULARITY_G_6_25GHZ" : "G_6_25GHZ"},
            {"grid-type", v24 ? "tapi-photonic-media:GRID_TYPE_FLEX" : "FLEX"}}}};
}

Json Encoder::Supportable() const {
  Json out = Json::array();
  for (const auto& b : ted_.model().plan().bands()) out.push_back(Band(b.f_min_hz, b.f_max_hz));
  return out;
}

Json Encoder::McPool(const std::vector<std::pair<double, double>>& available,
                     const std::vector<std::pair<double, double>>& occupied) const {
  Json a = Json::array(), o = Json::array();
  for (const auto& [l, u] : available) a.push_back(Band(l, u));
  for (const auto& [l, u] : occupied) o.push_back(Band(l, u));
  return {
      {"supportable-spectrum", Supportable()}, {"available-spectrum", a}, {"occupied-spectrum", o}};
}

std::vector<std::pair<double, double>> Encoder::FreeRuns(int fibre, int band) const {
  std::vector<std::pair<double, double>> out;
  const twin::BandPlan& plan = ted_.model().plan();
  const int slots = occupancy_.band_slots.at(band);
  for (int s = 0; s < slots;) {
    if (occupancy_.Occupied(fibre, band, s)) {
      ++s;
      continue;
    }
    int e = s;
    while (e < slots && !occupancy_.Occupied(fibre, band, e)) ++e;
    out.push_back(
        {plan.SlotLowerHz(band, s), plan.SlotLowerHz(band, s) + (e - s) * plan.slot_width_hz()});
    s = e;
  }
  return out;
}

std::vector<std::pair<double, double>> Encoder::ChannelsOn(int fibre) const {
  std::vector<std::pair<double, double>> out;
  auto it = channels_by_fibre_.find(fibre);
  if (it == channels_by_fibre_.end()) return out;
  for (const pce::PathDecision* d : it->second)
    out.push_back({d->channel.lower_hz, d->channel.upper_hz});
  std::sort(out.begin(), out.end());
  return out;
}

Json Encoder::State() const {
  return {{"administrative-state", "UNLOCKED"},
          {"operational-state", "ENABLED"},
          {"lifecycle-state", "INSTALLED"}};
}

std::string Encoder::Direction(bool source) const {
  if (dialect_ == Dialect::kV24) return source ? "SOURCE" : "SINK";
  return source ? "INPUT" : "OUTPUT";
}

// The capacity as it was asked for: GHz for spectrum (TAPI's frequency unit), else the bit rate
// (the config's default when the client gave none).
Json Encoder::Capacity(const pce::PathRequest& r) const {
  const bool v24 = dialect_ == Dialect::kV24;
  auto total = [&](double value, const char* unit21, const char* unit24) {
    const Json v =
        std::abs(value - std::round(value)) < 1e-9 ? Json(std::llround(value)) : Json(value);
    return Json{{"total-size", {{"value", v}, {"unit", v24 ? unit24 : unit21}}}};
  };
  if (r.IsSpectrumRequest())
    return total(r.spectrum_width_hz / 1e9, "GHz", "tapi-common:CAPACITY_UNIT_GHZ");
  if (std::abs(r.bit_rate_gbps - std::round(r.bit_rate_gbps)) < 1e-9)
    return total(r.bit_rate_gbps, "GBPS", "tapi-common:CAPACITY_UNIT_GBPS");
  return total(std::llround(r.bit_rate_gbps * 1000), "MBPS", "tapi-common:CAPACITY_UNIT_MBPS");
}

Json Encoder::Sip(int node) const {
  const int bands = static_cast<int>(occupancy_.band_slots.size());
  const twin::Topology& t = ted_.topology();
  const twin::BandPlan& plan = ted_.model().plan();
  // Available where a channel could still be added or dropped: free on at least one fibre of
  // the node (the add/drop structure is colourless, directionless and contentionless).
  std::vector<std::pair<double, double>> available, occupied;
  std::vector<int> fibres = t.OutFibres(node);
  for (int f = 0; f < t.NumFibres(); ++f) {
    if (t.fibre(f).dst == node) fibres.push_back(f);
  }
  for (int b = 0; b < bands; ++b) {
    const int slots = occupancy_.band_slots[b];
    auto free_somewhere = [&](int s) {
      for (int f : fibres) {
        if (!occupancy_.Occupied(f, b, s)) return true;
      }
      return false;
    };
    for (int s = 0; s < slots;) {
      if (!free_somewhere(s)) {
        ++s;
        continue;
      }
      int e = s;
      while (e < slots && free_somewhere(e)) ++e;
      available.push_back(
          {plan.SlotLowerHz(b, s), plan.SlotLowerHz(b, s) + (e - s) * plan.slot_width_hz()});
      s = e;
    }
  }
  if (auto it = channels_by_node_.find(node); it != channels_by_node_.end()) {
    for (const pce::PathDecision* d : it->second)
      occupied.push_back({d->channel.lower_hz, d->channel.upper_hz});
  }
  // A bidirectional pair on the same slots is added and dropped on one band: listed once.
  std::sort(occupied.begin(), occupied.end());
  occupied.erase(std::unique(occupied.begin(), occupied.end()), occupied.end());
  Json sip = {{"uuid", ted_.SipUuid(node)},
              {"name",
               {{{"value-name", "local-name"}, {"value", ted_.NodeName(node)}},
                {{"value-name", "eonops-node-id"}, {"value", std::to_string(node)}}}},
              {"layer-protocol-name", "PHOTONIC_MEDIA"},
              {"supported-layer-protocol-qualifier",
               {"tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_MC",
                "tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_OTSI"}},
              {"direction", "BIDIRECTIONAL"},
              {"tapi-photonic-media:media-channel-service-interface-point-spec",
               {{"mc-pool", McPool(available, occupied)}}}};
  sip.update(State());
  return sip;
}

Json Encoder::Sips() const {
  Json out = Json::array();
  for (int n = 0; n < ted_.NumNodes(); ++n) out.push_back(Sip(n));
  return out;
}

Json Encoder::EdgePoint(const std::string& nep_uuid) const {
  auto ep = ted_.FindEdgePoint(nep_uuid);
  if (!ep) return nullptr;
  const bool v24 = dialect_ == Dialect::kV24;
  Json nep = {{"uuid", nep_uuid}, {"layer-protocol-name", "PHOTONIC_MEDIA"}};
  nep.update(State());
  nep["supported-cep-layer-protocol-qualifier"] = {
      "tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_MC"};
  if (ep->kind == pce::TeDatabase::EdgeKind::kAddDrop) {
    nep["name"] = {
        {{"value-name", "local-name"}, {"value", ted_.NodeName(ep->node) + " add/drop"}}};
    nep["link-port-direction"] = "BIDIRECTIONAL";
    nep["mapped-service-interface-point"] = {
        {{"service-interface-point-uuid", ted_.SipUuid(ep->node)}}};
    return nep;
  }
  const bool out = ep->kind == pce::TeDatabase::EdgeKind::kFibreOut;
  nep["name"] = {
      {{"value-name", "local-name"}, {"value", ted_.LinkName(ep->fibre) + (out ? " out" : " in")}}};
  nep["link-port-direction"] = out ? (v24 ? "SOURCE" : "OUTPUT") : (v24 ? "SINK" : "INPUT");
  std::vector<std::pair<double, double>> available;
  for (int b = 0; b < static_cast<int>(occupancy_.band_slots.size()); ++b) {
    auto runs = FreeRuns(ep->fibre, b);
    available.insert(available.end(), runs.begin(), runs.end());
  }
  nep["tapi-photonic-media:media-channel-node-edge-point-spec"] = {
      {"mc-pool", McPool(available, ChannelsOn(ep->fibre))}};
  return nep;
}

Json Encoder::Node(int node) const {
  const twin::Topology& t = ted_.topology();
  Json neps = Json::array();
  neps.push_back(EdgePoint(ted_.AddDropNepUuid(node)));
  for (int f = 0; f < t.NumFibres(); ++f) {
    if (t.fibre(f).src == node) neps.push_back(EdgePoint(ted_.FibreOutNepUuid(f)));
    if (t.fibre(f).dst == node) neps.push_back(EdgePoint(ted_.FibreInNepUuid(f)));
  }
  Json names = {{{"value-name", "local-name"}, {"value", ted_.NodeName(node)}}};
  const twin::Node& n = t.node(node);
  if (n.latitude && n.longitude) {
    names.push_back({{"value-name", "latitude"}, {"value", std::to_string(*n.latitude)}});
    names.push_back({{"value-name", "longitude"}, {"value", std::to_string(*n.longitude)}});
  }
  Json j = {{"uuid", ted_.NodeUuid(node)},
            {"name", names},
            {"layer-protocol-name", {"PHOTONIC_MEDIA"}},
            {"owned-node-edge-point", neps}};
  j.update(State());
  return j;
}

Json Encoder::Link(int fibre) const {
  const twin::Fibre& f = ted_.topology().fibre(fibre);
  const twin::LatencyModel& lat = ted_.model().latency();
  const double latency_us =
      f.length_km * lat.PropagationUsPerKm() + f.spans_km.size() * lat.amplifier_delay_us;
  Json j = {{"uuid", ted_.LinkUuid(fibre)},
            {"name", {{{"value-name", "local-name"}, {"value", ted_.LinkName(fibre)}}}},
            {"layer-protocol-name", {"PHOTONIC_MEDIA"}},
            {"direction", "UNIDIRECTIONAL"},
            {"node-edge-point",
             {{{"topology-uuid", ted_.TopologyUuid()},
               {"node-uuid", ted_.NodeUuid(f.src)},
               {"node-edge-point-uuid", ted_.FibreOutNepUuid(fibre)}},
              {{"topology-uuid", ted_.TopologyUuid()},
               {"node-uuid", ted_.NodeUuid(f.dst)},
               {"node-edge-point-uuid", ted_.FibreInNepUuid(fibre)}}}},
            {"cost-characteristic",
             {{{"cost-name", "length-km"},
               {"cost-value", std::to_string(f.length_km)},
               {"cost-algorithm", "distance"}}}},
            {"latency-characteristic",
             {{{"traffic-property-name", "fixed-latency-us"},
               {"fixed-latency-characteristic", std::to_string(latency_us)}}}},
            {"eonops-pce:spans", f.spans_km.size()},
            {"eonops-pce:length-km", f.length_km}};
  j.update(State());
  return j;
}

Json Encoder::Topology() const {
  Json nodes = Json::array(), links = Json::array();
  for (int n = 0; n < ted_.NumNodes(); ++n) nodes.push_back(Node(n));
  for (int f = 0; f < ted_.NumFibres(); ++f) links.push_back(Link(f));
  return {{"uuid", ted_.TopologyUuid()},
          {"name", {{{"value-name", "topology-name"}, {"value", ted_.topology().name()}}}},
          {"layer-protocol-name", {"PHOTONIC_MEDIA"}},
          {"node", nodes},
          {"link", links}};
}

Json Encoder::TopologyContext() const {
  return {
      {"topology", {Topology()}},
      {"nw-topology-service",
       {{"uuid", ted_.TopologyUuid()}, {"topology", {{{"topology-uuid", ted_.TopologyUuid()}}}}}}};
}

Json Encoder::Lightpath(const pce::PathDecision& d) const {
  Json j = {{"use-case", twin::ToString(d.use_case)},
            {"decided-by", d.decided_by},
            {"policy-version", d.policy ? d.policy->Label() : "none"},
            {"fell-back", d.fell_back},
            {"compute-time-us", d.compute_us}};
  if (d.policy)
    j["policy"] = {
        {"model", d.policy->model}, {"version", d.policy->version}, {"run-id", d.policy->run_id}};
  if (d.fell_back) j["fallback-reason"] = d.fallback_reason;
  if (!d.feasible) return j;
  Json route = Json::array(), names = Json::array(), nodes = Json::array();
  for (int f : d.fibres) {
    route.push_back({{"topology-uuid", ted_.TopologyUuid()}, {"link-uuid", ted_.LinkUuid(f)}});
    names.push_back(ted_.LinkName(f));
  }
  for (int n : d.nodes) nodes.push_back(ted_.NodeName(n));
  auto num = [](double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); };
  j.update({{"route", route},
            {"route-names", names},
            {"nodes", nodes},
            {"length-km", d.length_km},
            {"band", d.band_name},
            // A spectrum request chose no format: this is the densest one the channel carries.
            {d.spectrum_width_hz > 0 ? "supported-modulation" : "modulation", d.modulation_name},
            {"spectrum", Band(d.channel.lower_hz, d.channel.upper_hz)},
            {"central-frequency-mhz", std::llround(d.channel.centre_hz / 1e6)},
            {"n", d.channel.n},
            {"m", d.channel.m},
            {"first-slot", d.slot},
            {"slots", d.width},
            {"spectrum-width-ghz", d.width * ted_.model().plan().slot_width_hz() / 1e9},
            {"capacity-gbps", d.bit_rate_gbps},
            {"capacity-source", d.capacity_defaulted      ? "default (pce.default_bit_rate_gbps)"
                                : d.spectrum_width_hz > 0 ? "requested spectrum"
                                                          : "requested bit rate"},
            {"gsnr-db", num(d.gsnr_db)},
            {"worst-case-gsnr-db", num(d.worst_case_gsnr_db)},
            {"threshold-db", num(d.threshold_db)},
            {"margin-db", num(d.margin_db())},
            {"required-margin-db", d.required_margin_db},
            {"latency-us", d.latency_us},
            {"incremental-power-w", d.incremental_power_w}});
  return j;
}

Json Encoder::BlockInfo(const pce::PathDecision& d) const {
  Json j = {{"eonops-pce:block-cause", twin::ToString(d.cause)},
            {"eonops-pce:use-case", twin::ToString(d.use_case)},
            {"eonops-pce:decided-by", d.decided_by},
            {"eonops-pce:policy-version", d.policy ? d.policy->Label() : "none"},
            {"eonops-pce:fell-back", d.fell_back}};
  if (d.fell_back) j["eonops-pce:fallback-reason"] = d.fallback_reason;
  return j;
}

Json Encoder::Constraints(const pce::PathRequest& r, Json* routing) const {
  *routing = Json::object();
  if (std::isfinite(r.latency_bound_us)) {
    (*routing)["max-allowed-delay"] = {{"value", std::llround(r.latency_bound_us)}};
  }
  if (!r.HasTopologyConstraints()) return nullptr;
  Json tc = Json::object();
  const bool v24 = dialect_ == Dialect::kV24;
  auto links = [&](const std::vector<int>& v) {
    Json a = Json::array();
    for (int f : v) {
      a.push_back(
          v24 ? Json{{"topology-uuid", ted_.TopologyUuid()}, {"link-uuid", ted_.LinkUuid(f)}}
              : Json(ted_.LinkUuid(f)));
    }
    return a;
  };
  auto nodes = [&](const std::vector<int>& v) {
    Json a = Json::array();
    for (int n : v) {
      a.push_back(
          v24 ? Json{{"topology-uuid", ted_.TopologyUuid()}, {"node-uuid", ted_.NodeUuid(n)}}
              : Json(ted_.NodeUuid(n)));
    }
    return a;
  };
  if (!r.include_links.empty()) tc["include-link"] = links(r.include_links);
  if (!r.exclude_links.empty()) tc["exclude-link"] = links(r.exclude_links);
  if (!r.include_nodes.empty()) tc["include-node"] = nodes(r.include_nodes);
  if (!r.exclude_nodes.empty()) tc["exclude-node"] = nodes(r.exclude_nodes);
  if (v24) {
    tc["local-id"] = "1";
    return Json::array({tc});
  }
  return tc;
}

// The two end-points; `decisions` holds A->Z (and Z->A when bidirectional): each end-point
// shows the media channel it transmits on.
Json Encoder::EndPoints(const pce::PathRequest& r,
                        const std::vector<const pce::PathDecision*>& decisions,
                        bool service) const {
  Json eps = Json::array();
  for (int i = 0; i < 2; ++i) {
    const int node = i == 0 ? r.src : r.dst;
    Json ep = {{"local-id", i == 0 ? "a" : "z"},
               {"service-interface-point", {{"service-interface-point-uuid", ted_.SipUuid(node)}}},
               {"layer-protocol-name", "PHOTONIC_MEDIA"},
               {"layer-protocol-qualifier", "tapi-photonic-media:PHOTONIC_LAYER_QUALIFIER_MC"},
               {"direction", r.bidirectional ? std::string("BIDIRECTIONAL") : Direction(i == 0)},
               {"capacity", Capacity(r)}};
    if (service) ep["role"] = "SYMMETRIC";
    const pce::PathDecision& d = *decisions[decisions.size() > 1 ? i : 0];
    if (d.feasible) {
      ep["tapi-photonic-media:media-channel-connectivity-service-end-point-spec"] = {
          {"mc-config", {{"spectrum", Band(d.channel.lower_hz, d.channel.upper_hz)}}}};
      ep["tapi-photonic-media:otsi-connectivity-service-end-point-spec"] = {
          {"otsi-config",
           {{"central-frequency",
             {{"central-frequency", std::llround(d.channel.centre_hz / 1e6)},
              {"frequency-constraint", Band(0, 0)["frequency-constraint"]}}},
            {"spectrum", Band(d.channel.lower_hz, d.channel.upper_hz)},
            {"modulation", d.modulation_name}}}};
    }
    eps.push_back(ep);
  }
  return eps;
}

// One TAPI service, with both directions of a bidirectional one: the A->Z lightpath in
// eonops-pce:lightpath, the Z->A one in eonops-pce:reverse-lightpath.
Json Encoder::Service(const pce::Service& s) const {
  const bool v24 = dialect_ == Dialect::kV24;
  const char* direction = s.request.bidirectional ? "BIDIRECTIONAL" : "UNIDIRECTIONAL";
  Json routing;
  Json tc = Constraints(s.request, &routing);
  Json j = {{"uuid", s.uuid},
            {"name", s.name.is_array() ? s.name : Json::array()},
            {"end-point", EndPoints(s.request, s.Directions(), true)},
            {"layer-protocol-name", "PHOTONIC_MEDIA"},
            {"direction", direction}};
  j.update(State());
  Json constraint = {{"service-type", "POINT_TO_POINT_CONNECTIVITY"},
                     {"service-layer", "PHOTONIC_MEDIA"},
                     {"requested-capacity", Capacity(s.request)},
                     {"connectivity-direction", direction}};
  if (v24) {
    j.update(constraint);  // 2.4 flattened the connectivity constraint into the service
  } else {
    j["connectivity-constraint"] = constraint;
  }
  if (!routing.empty()) j["routing-constraint"] = routing;
  if (!tc.is_null()) j["topology-constraint"] = tc;
  j["eonops-pce:lightpath"] = Lightpath(s.decision);
  if (s.reverse) j["eonops-pce:reverse-lightpath"] = Lightpath(*s.reverse);
  return j;
}

Json Encoder::ConnectivityContext() const {
  Json list = Json::array();
  for (const auto& s : services_) list.push_back(Service(s));
  return {{"connectivity-service", list}};
}

Json Encoder::Path(const pce::ComputedPath& p, bool with_lightpath, bool reverse) const {
  const pce::PathDecision& d = reverse ? *p.reverse : p.decision;
  Json links = Json::array();
  for (int f : d.fibres)
    links.push_back({{"topology-uuid", ted_.TopologyUuid()}, {"link-uuid", ted_.LinkUuid(f)}});
  Json routing;
  Constraints(p.request, &routing);
  Json j = {{"uuid", reverse ? p.reverse_uuid : p.uuid},
            {"name",
             {{{"value-name", "path-comp-service"}, {"value", p.service_uuid}},
              {{"value-name", "direction"}, {"value", reverse ? "Z->A" : "A->Z"}}}},
            {"link", links},
            {"direction", "UNIDIRECTIONAL"},
            {"layer-protocol-name", "PHOTONIC_MEDIA"}};
  if (with_lightpath) j["eonops-pce:lightpath"] = Lightpath(d);
  if (!routing.empty()) j["routing-constraint"] = routing;
  return j;
}

Json Encoder::PathCompService(const pce::ComputedPath& p, bool with_paths) const {
  Json routing;
  Json tc = Constraints(p.request, &routing);
  Json path_refs = {{{"path-uuid", p.uuid}}};
  if (p.reverse) path_refs.push_back({{"path-uuid", p.reverse_uuid}});
  std::vector<const pce::PathDecision*> decisions = {&p.decision};
  if (p.reverse) decisions.push_back(&*p.reverse);
  Json j = {{"uuid", p.service_uuid},
            {"name", p.name.is_array() ? p.name : Json::array()},
            {"path", path_refs},
            {"end-point", EndPoints(p.request, decisions, false)},
            {"direction", p.request.bidirectional ? "BIDIRECTIONAL" : "UNIDIRECTIONAL"},
            {"layer-protocol-name", "PHOTONIC_MEDIA"}};
  if (!routing.empty()) j["routing-constraint"] = routing;
  if (!tc.is_null()) j["topology-constraint"] = tc;
  if (p.request.use_case) {
    j["objective-function"] = {
        {"name", {{{"value-name", "use-case"}, {"value", twin::ToString(*p.request.use_case)}}}}};
  }
  if (with_paths) {
    // The service carries each lightpath once; the paths themselves follow without it.
    j["eonops-pce:lightpath"] = Lightpath(p.decision);
    j["eonops-pce:path"] = {Path(p, /*with_lightpath=*/false)};
    if (p.reverse) {
      j["eonops-pce:reverse-lightpath"] = Lightpath(*p.reverse);
      j["eonops-pce:path"].push_back(Path(p, false, /*reverse=*/true));
    }
  }
  return j;
}

Json Encoder::PathComputationContext(const std::vector<pce::ComputedPath>& paths) const {
  Json services = Json::array(), list = Json::array();
  for (const auto& p : paths) {
    services.push_back(PathCompService(p, false));
    list.push_back(Path(p));
    if (p.reverse) list.push_back(Path(p, true, /*reverse=*/true));
  }
  return {{"path-comp-service", services}, {"path", list}};
}

Json Encoder::Context(const std::vector<pce::ComputedPath>& paths) const {
  return {{"uuid", ted_.ContextUuid()},
          {"name",
           {{{"value-name", "context-name"}, {"value", "eonops-pce " + ted_.topology().name()}}}},
          {"service-interface-point", Sips()},
          {"tapi-topology:topology-context", TopologyContext()},
          {"tapi-connectivity:connectivity-context", ConnectivityContext()},
          {"tapi-path-computation:path-computation-context", PathComputationContext(paths)}};
}

}  // namespace eonops::tapi
