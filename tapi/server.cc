#include "tapi/server.h"

#include <httplib.h>

#include <chrono>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "tapi/live_view.h"
#include "tracking/errors.h"
#include "tracking/exclusive_listen.h"
#include "tracking/server.h"
#include "twin/json_util.h"

namespace eonops::tapi {

namespace {

constexpr const char* kYangJson = "application/yang-data+json";
constexpr const char* kServicePath =
    "/restconf/data/tapi-common:context/tapi-connectivity:connectivity-context/"
    "connectivity-service=";
constexpr int kMaxJsonDepth = 64;

std::string LocalName(const std::string& s) {
  const auto c = s.find(':');
  return c == std::string::npos ? s : s.substr(c + 1);
}

struct Segment {
  std::string name;  // without module prefix
  std::optional<std::string> key;
};

std::vector<Segment> Split(const std::string& path) {
  std::vector<Segment> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) {
      std::string seg = path.substr(i, j - i);
      Segment s;
      const auto eq = seg.find('=');
      if (eq != std::string::npos) {
        s.key = seg.substr(eq + 1);
        seg.resize(eq);
      }
      s.name = LocalName(seg);
      out.push_back(std::move(s));
    }
    i = j + 1;
  }
  return out;
}

// Nesting depth of a JSON text (outside strings); bounded work, no recursion.
int JsonDepth(const std::string& body) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// Compares without an early exit, so the time taken does not tell how much of a guess matched.
// Replies may quote what the client sent (a path, a key); invalid UTF-8 in it is replaced
// rather than thrown on.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string DecodeQueryValue(const std::string& s) { return httplib::detail::decode_url(s, true); }

}  // namespace

TapiServerOptions TapiServerOptions::FromConfig(const pce::PceConfig& config) {
  TapiServerOptions o;
  const Json& t = config.tapi;
  const std::string where = config.origin + ".tapi";
  twin::RejectUnknownKeys(t, {"version", "bare_output", "threads", "max_body_bytes"}, where);
  for (auto it = t.begin(); it != t.end(); ++it) {
    const std::string& k = it.key();
    if (k == "version") {
      if (!it->is_string())
        throw std::runtime_error(where + ".version: expected \"2.1\" or \"2.4\"");
      try {
        o.dialect = ParseDialect(it->get<std::string>());
      } catch (const TapiError& e) {
        throw std::runtime_error(where + ".version: " + e.what());
      }
    } else if (k == "bare_output") {
      if (it->is_boolean()) {
        o.bare_output = it->get<bool>();
      } else if (*it != "auto") {
        throw std::runtime_error(where +
                                 ".bare_output: expected true, false or \"auto\" (as the input)");
      }
    } else if (k == "threads") {
      // Compared as int64: get<int>() would wrap 4294967300 to 4 and accept it.
      if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1024) {
        throw std::runtime_error(where + ".threads: expected an integer in 1..1024");
      }
      o.threads = it->get<int>();
    } else if (k == "max_body_bytes") {
      if (!it->is_number_integer() || it->get<int64_t>() < 1024) {
        throw std::runtime_error(where + ".max_body_bytes: expected an integer >= 1024");
      }
      o.max_body_bytes = it->get<size_t>();
    }
  }
  return o;
}

struct TapiServer::Impl {
  pce::Pce& pce;
  TapiServerOptions options;
  httplib::Server http;
  std::thread thread;
  int port = -1;
  std::vector<std::string> tokens;
  LiveView live_view{pce};  // /ui: the live network view (read-only, open)

  Impl(pce::Pce& p, TapiServerOptions o) : pce(p), options(std::move(o)) {}

  // --- one request -----------------------------------------------------------------------------
  struct Request {
    std::string method, path;
    std::multimap<std::string, std::string> query;
    std::string body, authorization, content_type;
    std::string Query(const std::string& k) const {
      auto it = query.find(k);
      return it == query.end() ? "" : it->second;
    }
  };
  struct Ctx {
    const Request& req;
    Reply reply;
    std::string operation = "unknown";
    std::string outcome = "ok";
  };

  Dialect OutputDialect(const Request& req, std::optional<Dialect> detected) const {
    const std::string q = req.Query("tapi-version");
    if (!q.empty()) return ParseDialect(q);
    return detected.value_or(options.dialect);
  }

  static void SetJson(Ctx& c, int status, const Json& body) {
    c.reply.status = status;
    c.reply.content_type = kYangJson;
    c.reply.body = Dump(body);
  }
  static void NoContent(Ctx& c) {
    c.reply.status = 204;
    c.reply.content_type.clear();
    c.reply.body.clear();
  }

  Encoder MakeEncoder(Dialect d) const {
    Encoder e(pce, d);
    pce::Pce::StateView v = pce.View();  // one instant: occupancy and services agree
    e.Load(std::move(v.occupancy), std::move(v.services));
    return e;
  }

  Json ParseBody(const Request& req, bool required) const {
    if (req.body.empty()) {
      if (required) throw TapiError(ErrorCode::kMalformedMessage, "the request needs a JSON body");
      return nullptr;
    }
    const std::string& ct = req.content_type;
    if (!ct.empty() && ct.find("json") == std::string::npos) {
      throw TapiError(
          ErrorCode::kUnsupportedMediaType,
          "content type '" + ct.substr(0, 64) + "' is not JSON (use application/yang-data+json)");
    }
    if (JsonDepth(req.body) > kMaxJsonDepth) {
      throw TapiError(ErrorCode::kMalformedMessage,
                      "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded())
      throw TapiError(ErrorCode::kMalformedMessage, "the body is not valid JSON");
    return j;
  }

  void CheckToken(const Request& req) const {
    if (tokens.empty()) return;
    const std::string& h = req.authorization;
    if (h.empty())
      throw TapiError(ErrorCode::kAccessDeniedNoToken,
                      "this operation needs an Authorization: Bearer token");
    const std::string prefix = "Bearer ";
    if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) {
      throw TapiError(ErrorCode::kAccessDeniedNoToken,
                      "the Authorization header must be 'Bearer <token>'");
    }
    const std::string given = h.substr(prefix.size());
    bool ok = false;
    for (const auto& t : tokens) ok |= ConstantTimeEqual(given, t);
    if (!ok)
      throw TapiError(ErrorCode::kAccessDeniedBadToken,
                      "the bearer token is not valid for this PCE");
  }

  [[noreturn]] static void NotAllowed(Ctx& c, const std::string& allow) {
    c.reply.headers["Allow"] = allow;
    throw TapiError(
        ErrorCode::kOperationNotSupported,
        c.req.method + " is not allowed on " + c.req.path + " (allowed: " + allow + ")");
  }
  [[noreturn]] static void NotFound(const std::string& what) {
    throw TapiError(ErrorCode::kUnknownResource, what);
  }

  static void Blocked(const Encoder& enc, const pce::PathDecision& d, const std::string& path) {
    throw TapiError(ErrorCode::kResourceDenied, "no feasible lightpath: " + d.reason, path,
                    enc.BlockInfo(d));
  }

  static void RaiseFor(pce::ErrorKind kind, const std::string& message, const std::string& path) {
    switch (kind) {
      case pce::ErrorKind::kInvalid:
        throw TapiError(ErrorCode::kInvalidValue, message, path);
      case pce::ErrorKind::kNotFound:
        throw TapiError(ErrorCode::kUnknownResource, message, path);
      case pce::ErrorKind::kExists:
        throw TapiError(ErrorCode::kDataExists, message, path);
      default:
        throw TapiError(ErrorCode::kOperationFailed, message, path);
    }
  }

  // --- data store ----------------------------------------------------------------------------
  void Data(Ctx& c, const std::vector<Segment>& s) {
    const Request& req = c.req;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (s.size() == 2) {
      c.operation = "get-context";
      if (!get) NotAllowed(c, "GET");
      Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
      SetJson(c, 200, {{"tapi-common:context", enc.Context(pce.ListComputedPaths())}});
      return;
    }
    const Segment& top = s[2];
    if (top.name == "service-interface-point" && s.size() == 3) {
      c.operation = "get-service-interface-point";
      if (!get) NotAllowed(c, "GET");
      Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
      if (!top.key) {
        SetJson(c, 200, {{"tapi-common:service-interface-point", enc.Sips()}});
        return;
      }
      auto n = pce.ted().FindSip(*top.key);  // its uuid, or the node's name
      if (!n) NotFound("no service-interface-point " + *top.key);
      SetJson(c, 200, {{"tapi-common:service-interface-point", Json::array({enc.Sip(*n)})}});
      return;
    }
    if (top.name == "topology-context" && !top.key) return Topology(c, s);
    if (top.name == "connectivity-context" && !top.key) return Connectivity(c, s);
    if (top.name == "path-computation-context" && !top.key) return PathComputation(c, s);
    NotFound("no resource " + req.path);
  }

  void Topology(Ctx& c, const std::vector<Segment>& s) {
    const Request& req = c.req;
    c.operation = "get-topology";
    if (req.method != "GET" && req.method != "HEAD") NotAllowed(c, "GET");
    const pce::TeDatabase& ted = pce.ted();
    Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
    if (s.size() == 3) {
      SetJson(c, 200, {{"tapi-topology:topology-context", enc.TopologyContext()}});
      return;
    }
    if (s[3].name != "topology") NotFound("no resource " + req.path);
    if (!s[3].key) {
      if (s.size() != 4) NotFound("no resource " + req.path);
      SetJson(c, 200, {{"tapi-topology:topology", Json::array({enc.Topology()})}});
      return;
    }
    if (!ted.IsTopology(*s[3].key)) NotFound("no topology " + *s[3].key);
    if (s.size() == 4) {
      SetJson(c, 200, {{"tapi-topology:topology", Json::array({enc.Topology()})}});
      return;
    }
    const Segment& kind = s[4];
    if (kind.name == "node") {
      c.operation = "get-node";
      if (!kind.key) {
        if (s.size() != 5) NotFound("no resource " + req.path);
        Json nodes = Json::array();
        for (int n = 0; n < ted.NumNodes(); ++n) nodes.push_back(enc.Node(n));
        SetJson(c, 200, {{"tapi-topology:node", nodes}});
        return;
      }
      auto n = ted.FindNode(*kind.key);
      if (!n) NotFound("no node " + *kind.key);
      if (s.size() == 5) {
        SetJson(c, 200, {{"tapi-topology:node", Json::array({enc.Node(*n)})}});
        return;
      }
      if (s.size() == 6 && s[5].name == "owned-node-edge-point") {
        c.operation = "get-node-edge-point";
        Json node = enc.Node(*n);
        if (!s[5].key) {
          SetJson(c, 200, {{"tapi-topology:owned-node-edge-point", node["owned-node-edge-point"]}});
          return;
        }
        auto ep = ted.FindEdgePoint(*s[5].key);
        if (!ep || ep->node != *n)
          NotFound("no node-edge-point " + *s[5].key + " on node " + ted.NodeName(*n));
        SetJson(c, 200,
                {{"tapi-topology:owned-node-edge-point", Json::array({enc.EdgePoint(*s[5].key)})}});
        return;
      }
      NotFound("no resource " + req.path);
    }
    if (kind.name == "link" && s.size() == 5) {
      c.operation = "get-link";
      if (!kind.key) {
        Json links = Json::array();
        for (int f = 0; f < ted.NumFibres(); ++f) links.push_back(enc.Link(f));
        SetJson(c, 200, {{"tapi-topology:link", links}});
        return;
      }
      auto f = ted.FindLink(*kind.key);
      if (!f) NotFound("no link " + *kind.key);
      SetJson(c, 200, {{"tapi-topology:link", Json::array({enc.Link(*f)})}});
      return;
    }
    NotFound("no resource " + req.path);
  }

  void CreateServices(Ctx& c, const Json& body, const std::string& path) {
    c.operation = "create-connectivity-service";
    CheckToken(c.req);
    std::vector<const Json*> entries;
    if (const Json* list = Member(body, "connectivity-service")) {
      if (list->is_array()) {
        for (const auto& e : *list) entries.push_back(&e);
      } else {
        entries.push_back(list);
      }
    } else if (Member(body, "end-point")) {
      entries.push_back(&body);
    } else {
      throw TapiError(ErrorCode::kMissingElement,
                      "the body needs \"tapi-connectivity:connectivity-service\": [ {...} ]", path);
    }
    if (entries.empty())
      throw TapiError(ErrorCode::kMissingElement, "no connectivity-service in the body", path);
    if (entries.size() > 1000)
      throw TapiError(ErrorCode::kTooBig, "at most 1000 services per request", path);
    std::vector<ParsedService> parsed;
    for (size_t i = 0; i < entries.size(); ++i) {
      parsed.push_back(ParseConnectivityService(
          *entries[i], pce.ted(),
          path + "/tapi-connectivity:connectivity-service[" + std::to_string(i) + "]"));
    }
    // All or nothing: a refusal undoes the services this request already created.
    std::vector<pce::Service> created;
    std::optional<Dialect> dialect;
    try {
      for (auto& p : parsed) {
        if (p.dialect_known) dialect = p.dialect;
        pce::Result<pce::Service> r = pce.CreateService(p.spec);
        if (!r.ok()) {
          if (r.error == pce::ErrorKind::kBlocked) {
            c.outcome = "blocked";
            Encoder enc(pce, OutputDialect(c.req, dialect));
            Blocked(enc, r.decision, path);
          }
          RaiseFor(r.error, r.message, path);
        }
        created.push_back(*r.value);
      }
    } catch (...) {
      for (const auto& s : created) pce.DeleteService(s.uuid);
      throw;
    }
    Encoder enc(pce, OutputDialect(c.req, dialect));
    Json list = Json::array();
    for (const auto& s : created) list.push_back(enc.Service(s));
    c.reply.headers["Location"] = std::string(kServicePath) + created.front().uuid;
    SetJson(c, 201, {{"tapi-connectivity:connectivity-service", list}});
  }

  void Connectivity(Ctx& c, const std::vector<Segment>& s) {
    const Request& req = c.req;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (s.size() == 3) {
      c.operation = "get-connectivity-context";
      if (req.method == "POST")
        return CreateServices(c, ParseBody(req, true),
                              "/tapi-common:context/tapi-connectivity:connectivity-context");
      if (!get) NotAllowed(c, "GET, POST");
      Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
      SetJson(c, 200, {{"tapi-connectivity:connectivity-context", enc.ConnectivityContext()}});
      return;
    }
    if (s.size() != 4 || s[3].name != "connectivity-service") NotFound("no resource " + req.path);
    if (!s[3].key) {
      c.operation = "get-connectivity-service-list";
      if (req.method == "POST") {
        return CreateServices(c, ParseBody(req, true),
                              "/tapi-common:context/tapi-connectivity:connectivity-context");
      }
      if (!get) NotAllowed(c, "GET, POST");
      Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
      SetJson(c, 200,
              {{"tapi-connectivity:connectivity-service",
                enc.ConnectivityContext()["connectivity-service"]}});
      return;
    }
    const std::string& uuid = *s[3].key;
    if (get) {
      c.operation = "get-connectivity-service";
      auto svc = pce.GetService(uuid);
      if (!svc) NotFound("no connectivity-service " + uuid);
      Encoder enc(pce, OutputDialect(req, std::nullopt));
      SetJson(c, 200,
              {{"tapi-connectivity:connectivity-service", Json::array({enc.Service(*svc)})}});
      return;
    }
    if (req.method == "DELETE") {
      c.operation = "delete-connectivity-service";
      CheckToken(req);
      if (!pce.DeleteService(uuid)) NotFound("no connectivity-service " + uuid);
      NoContent(c);
      return;
    }
    NotAllowed(c, "GET, DELETE");
  }

  void PathComputation(Ctx& c, const std::vector<Segment>& s) {
    const Request& req = c.req;
    const bool get = req.method == "GET" || req.method == "HEAD";
    c.operation = "get-path";
    if (s.size() == 3) {
      if (!get) NotAllowed(c, "GET");
      Encoder enc(pce, OutputDialect(req, std::nullopt));
      SetJson(c, 200,
              {{"tapi-path-computation:path-computation-context",
                enc.PathComputationContext(pce.ListComputedPaths())}});
      return;
    }
    if (s.size() != 4 || (s[3].name != "path" && s[3].name != "path-comp-service"))
      NotFound("no resource " + req.path);
    const bool is_path = s[3].name == "path";
    Encoder enc(pce, OutputDialect(req, std::nullopt));
    if (!s[3].key) {
      if (!get) NotAllowed(c, "GET");
      Json list = Json::array();
      for (const auto& p : pce.ListComputedPaths())
        list.push_back(is_path ? enc.Path(p) : enc.PathCompService(p, false));
      SetJson(c, 200,
              {{is_path ? "tapi-path-computation:path" : "tapi-path-computation:path-comp-service",
                list}});
      return;
    }
    const std::string& uuid = *s[3].key;
    auto p = pce.GetComputedPath(uuid);
    const bool reverse = p && is_path && !p->reverse_uuid.empty() && p->reverse_uuid == uuid;
    if (!p || (is_path ? (p->uuid != uuid && !reverse) : p->service_uuid != uuid)) {
      NotFound(std::string("no ") + (is_path ? "path " : "path-comp-service ") + uuid);
    }
    if (get) {
      SetJson(c, 200,
              {{is_path ? "tapi-path-computation:path" : "tapi-path-computation:path-comp-service",
                Json::array(
                    {is_path ? enc.Path(*p, true, reverse) : enc.PathCompService(*p, false)})}});
      return;
    }
    if (req.method == "DELETE") {
      c.operation = "delete-p-2-p-path";
      CheckToken(req);
      if (!pce.DeleteComputedPath(uuid)) NotFound("no path " + uuid);
      NoContent(c);
      return;
    }
    NotAllowed(c, "GET, DELETE");
  }

  // --- RPCs ----------------------------------------------------------------------------------
  // What every RPC handler gets: its error-path, the parsed body and whether its input was the
  // bare "input" (RFC 7951 wants "<module>:input"; the reply mirrors what the client used).
  struct RpcCall {
    std::string module, path;
    Json body;
    bool bare_input = false;
  };

  // One RPC: which module it belongs to, the handler, and whether it only reads (no token).
  struct Rpc {
    const char* module;
    void (Impl::*handle)(Ctx&, const RpcCall&);
    bool read_only;
  };
  static const std::map<std::string, Rpc>& Rpcs() {
    static const std::map<std::string, Rpc> kRpcs = {
        {"compute-p-2-p-path", {"tapi-path-computation", &Impl::ComputeP2PPath, false}},
        {"delete-p-2-p-path", {"tapi-path-computation", &Impl::DeleteP2PPath, false}},
        {"optimize-p-2-p-path", {"tapi-path-computation", &Impl::OptimizeP2PPath, false}},
        {"create-connectivity-service",
         {"tapi-connectivity", &Impl::CreateConnectivityService, false}},
        {"get-connectivity-service-list",
         {"tapi-connectivity", &Impl::GetConnectivityServiceList, true}},
        {"get-connectivity-service-details",
         {"tapi-connectivity", &Impl::GetConnectivityServiceDetails, true}},
        {"delete-connectivity-service",
         {"tapi-connectivity", &Impl::DeleteConnectivityService, false}},
        {"update-connectivity-service",
         {"tapi-connectivity", &Impl::UpdateConnectivityService, false}},
        {"get-service-interface-point-list", {"tapi-common", &Impl::GetSipList, true}},
        {"get-service-interface-point-details", {"tapi-common", &Impl::GetSipDetails, true}},
        {"get-topology-list", {"tapi-topology", &Impl::GetTopologyList, true}},
        {"get-topology-details", {"tapi-topology", &Impl::GetTopologyDetails, true}},
        {"get-node-details", {"tapi-topology", &Impl::GetNodeDetails, true}},
        {"get-link-details", {"tapi-topology", &Impl::GetLinkDetails, true}},
    };
    return kRpcs;
  }

  // POST /operations/<module>:<rpc>: find it, check the method and token, parse the body, run it.
  void Operation(Ctx& c, const std::string& rpc) {
    c.operation = rpc;
    auto it = Rpcs().find(rpc);
    if (it == Rpcs().end()) {
      c.operation = "unknown";
      NotFound("no operation " + rpc);
    }
    if (c.req.method != "POST") NotAllowed(c, "POST");
    const Rpc& r = it->second;
    if (!r.read_only) CheckToken(c.req);
    RpcCall call;
    call.module = r.module;
    call.path = "/" + call.module + ":" + rpc;
    call.body = ParseBody(c.req, false);
    call.bare_input = call.body.is_object() && call.body.contains("input");
    (this->*r.handle)(c, call);
  }

  // The RPC's output member, qualified or bare (the option, ?bare-output=, else as the input).
  void Output(Ctx& c, const RpcCall& call, Json value) const {
    bool bare = call.bare_input;
    if (options.bare_output) bare = *options.bare_output;
    const std::string q = c.req.Query("bare-output");
    if (!q.empty()) bare = q == "true" || q == "1" || q == "yes";
    SetJson(c, 200, {{bare ? std::string("output") : call.module + ":output", std::move(value)}});
  }

  // A refusal from the PCE: 409 with the cause for "no feasible lightpath", else by kind.
  template <typename T>
  void RaiseUnlessOk(Ctx& c, const pce::Result<T>& r, const Encoder& enc,
                     const std::string& path) const {
    if (r.ok()) return;
    if (r.error == pce::ErrorKind::kBlocked) {
      c.outcome = "blocked";
      Blocked(enc, r.decision, path);
    }
    RaiseFor(r.error, r.message, path + "/input");
  }

  static std::optional<Dialect> Known(bool known, Dialect d) {
    return known ? std::optional<Dialect>(d) : std::nullopt;
  }

  void ComputeP2PPath(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, false);
    ParsedRequest p = ParseComputeInput(in, pce.ted(), call.path);
    Encoder enc(pce, OutputDialect(c.req, Known(p.dialect_known, p.dialect)));
    pce::Result<pce::ComputedPath> r = pce.ComputeAndStorePath(p.request, p.name);
    RaiseUnlessOk(c, r, enc, call.path);
    Output(c, call, {{"service", enc.PathCompService(*r.value, true)}});
  }

  void DeleteP2PPath(Ctx& c, const RpcCall& call) {
    Dialect d = options.dialect;
    const std::string id = IdFromInput(RpcInput(call.body, call.path, false), call.path, &d);
    auto p = pce.DeleteComputedPath(id);
    if (!p) NotFound("no path " + id);
    Encoder enc(pce, OutputDialect(c.req, d));
    Output(c, call, {{"service", enc.PathCompService(*p, false)}});
  }

  void OptimizeP2PPath(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, false);
    Dialect d = options.dialect;
    const std::string id = IdFromInput(in, call.path, &d);
    auto current = pce.GetComputedPath(id);
    if (!current) NotFound("no path " + id);
    std::optional<pce::PathRequest> request;
    pce::PathRequest r = current->request;
    if (ApplyConstraints(in, call.path + "/input", pce.ted(), &r)) request = r;
    Encoder enc(pce, OutputDialect(c.req, d));
    pce::Result<pce::ComputedPath> res = pce.OptimizePath(id, request);
    RaiseUnlessOk(c, res, enc, call.path);
    Output(c, call, {{"service", enc.PathCompService(*res.value, true)}});
  }

  void CreateConnectivityService(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, false);
    ParsedService p = ParseConnectivityService(in, pce.ted(), call.path + "/input");
    Encoder enc(pce, OutputDialect(c.req, Known(p.dialect_known, p.dialect)));
    pce::Result<pce::Service> r = pce.CreateService(p.spec);
    RaiseUnlessOk(c, r, enc, call.path);
    Output(c, call, {{"service", enc.Service(*r.value)}});
  }

  void GetConnectivityServiceList(Ctx& c, const RpcCall& call) {
    Encoder enc(pce, OutputDialect(c.req, std::nullopt));
    Json list = Json::array();
    for (const auto& s : pce.ListServices()) list.push_back(enc.Service(s));
    Output(c, call, {{"service", list}});
  }

  void GetConnectivityServiceDetails(Ctx& c, const RpcCall& call) {
    Dialect d = options.dialect;
    const std::string id = IdFromInput(RpcInput(call.body, call.path, false), call.path, &d);
    auto s = pce.GetService(id);
    if (!s) NotFound("no connectivity-service " + id);
    Encoder enc(pce, OutputDialect(c.req, d));
    Output(c, call, {{"service", enc.Service(*s)}});
  }

  void DeleteConnectivityService(Ctx& c, const RpcCall& call) {
    Dialect d = options.dialect;
    const std::string id = IdFromInput(RpcInput(call.body, call.path, false), call.path, &d);
    auto s = pce.DeleteService(id);
    if (!s) NotFound("no connectivity-service " + id);
    if (OutputDialect(c.req, d) == Dialect::kV24) return NoContent(c);  // 2.4: no output
    Encoder enc(pce, Dialect::kV21);
    Output(c, call, {{"service", enc.Service(*s)}});
  }

  void UpdateConnectivityService(Ctx&, const RpcCall& call) {
    throw TapiError(
        ErrorCode::kNotImplemented,
        "update-connectivity-service is not supported: delete the service and create it again",
        call.path);
  }

  // The read-only tapi-common / tapi-topology RPCs: an id from the input, a piece of the context.
  static std::optional<std::string> Field(const Json& in,
                                          std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (const Json* v = Member(in, n); v && v->is_string()) return v->get<std::string>();
    }
    return std::nullopt;
  }
  static std::string RequireField(const Json& in, std::initializer_list<const char*> names,
                                  const std::string& what, const std::string& path) {
    auto v = Field(in, names);
    if (!v) throw TapiError(ErrorCode::kMissingElement, "the input needs " + what, path + "/input");
    return *v;
  }
  void CheckTopologyField(const Json& in) const {
    auto topo = Field(in, {"topology-id-or-name", "topology-uuid"});
    if (topo && !pce.ted().IsTopology(*topo)) NotFound("no topology " + *topo);
  }

  void GetSipList(Ctx& c, const RpcCall& call) {
    Output(c, call, {{"sip", MakeEncoder(OutputDialect(c.req, std::nullopt)).Sips()}});
  }

  void GetSipDetails(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, true);
    const std::string id = RequireField(in, {"sip-id-or-name", "uuid"},
                                        "sip-id-or-name (2.1) or uuid (2.4)", call.path);
    auto n = pce.ted().FindSip(id);
    if (!n) NotFound("no service-interface-point " + id);
    Output(c, call, {{"sip", MakeEncoder(OutputDialect(c.req, std::nullopt)).Sip(*n)}});
  }

  void GetTopologyList(Ctx& c, const RpcCall& call) {
    Encoder enc = MakeEncoder(OutputDialect(c.req, std::nullopt));
    Output(c, call, {{"topology", Json::array({enc.Topology()})}});
  }

  void GetTopologyDetails(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, true);
    CheckTopologyField(in);
    RequireField(in, {"topology-id-or-name", "topology-uuid"}, "topology-id-or-name", call.path);
    Output(c, call, {{"topology", MakeEncoder(OutputDialect(c.req, std::nullopt)).Topology()}});
  }

  void GetNodeDetails(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, true);
    CheckTopologyField(in);
    const std::string id =
        RequireField(in, {"node-id-or-name", "node-uuid"}, "node-id-or-name", call.path);
    auto n = pce.ted().FindNode(id);
    if (!n) NotFound("no node " + id);
    Output(c, call, {{"node", MakeEncoder(OutputDialect(c.req, std::nullopt)).Node(*n)}});
  }

  void GetLinkDetails(Ctx& c, const RpcCall& call) {
    const Json& in = RpcInput(call.body, call.path, true);
    CheckTopologyField(in);
    const std::string id =
        RequireField(in, {"link-id-or-name", "link-uuid"}, "link-id-or-name", call.path);
    auto f = pce.ted().FindLink(id);
    if (!f) NotFound("no link " + id);
    Output(c, call, {{"link", MakeEncoder(OutputDialect(c.req, std::nullopt)).Link(*f)}});
  }

  // --- the service trace (pce/service_trace.h), read by `eonops lifecycle serve` ------------------
  // GET /eonops/trace?after=N&limit=M: events with seq > N, oldest first (at most M, <= 10000).
  // GET /eonops/trace/snapshot: the live services and the sequence number to read on from.
  void Trace(Ctx& c, const std::vector<Segment>& s) {
    const Request& req = c.req;
    c.operation = "trace";
    if (req.method != "GET" && req.method != "HEAD") NotAllowed(c, "GET");
    if (s.size() == 3 && s[2].name == "snapshot" && !s[2].key) {
      c.operation = "trace-snapshot";
      SetJson(c, 200, pce.Snapshot().ToJson());
      return;
    }
    if (s.size() != 2) NotFound("no resource " + req.path);
    auto integer = [&](const char* key, int64_t fallback, int64_t lo, int64_t hi) {
      const std::string v = req.Query(key);
      if (v.empty()) return fallback;
      size_t used = 0;
      int64_t x = lo - 1;
      try {
        x = std::stoll(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || x < lo || x > hi)
        throw TapiError(ErrorCode::kInvalidValue,
                        std::string(key) + " must be an integer in " + std::to_string(lo) + ".." +
                            std::to_string(hi) + ", got '" + v.substr(0, 64) + "'",
                        "/eonops/trace");
      return x;
    };
    const int64_t after = integer("after", 0, 0, std::numeric_limits<int64_t>::max() - 1);
    const int64_t limit = integer("limit", 1000, 1, 10000);
    pce::ServiceTrace::Page page = pce.trace().Read(after, static_cast<size_t>(limit));
    Json events = Json::array();
    for (const auto& e : page.events) events.push_back(e.ToJson());
    SetJson(c, 200,
            {{"first_seq", page.first_seq},
             {"next_seq", page.next_seq},
             {"epoch_us", page.epoch_us},
             {"events", events}});
  }

  // --- dispatch ------------------------------------------------------------------------------
  void Route(Ctx& c) {
    const Request& req = c.req;
    std::string path = req.path;
    if (path.compare(0, 9, "/restconf") == 0 && (path.size() == 9 || path[9] == '/'))
      path = path.substr(9);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::vector<Segment> s = Split(path);
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (s.empty()) {
      c.operation = "root";
      if (!get) NotAllowed(c, "GET");
      SetJson(c, 200,
              {{"ietf-restconf:restconf",
                {{"data", Json::object()},
                 {"operations", Json::object()},
                 {"yang-library-version", "2019-01-04"}}}});
      return;
    }
    if (s.size() == 1 && s[0].name == "metrics" && !s[0].key) {
      c.operation = "metrics";
      if (!get) NotAllowed(c, "GET");
      c.reply.status = 200;
      c.reply.content_type = "text/plain; version=0.0.4";
      c.reply.body = pce.RenderMetrics();
      return;
    }
    if (s.size() == 1 && (s[0].name == "health" || s[0].name == "healthz") && !s[0].key) {
      c.operation = "health";
      if (!get) NotAllowed(c, "GET");
      Json policies = Json::array();
      for (const auto& p : pce.Policies()) {
        policies.push_back({{"use-case", twin::ToString(p.use_case)},
                            {"model", p.binding.model},
                            {"served", p.served ? p.served->Label() : "none"},
                            {"error", p.last_error}});
      }
      SetJson(c, 200,
              {{"status", "ok"},
               {"topology", pce.ted().topology().name()},
               {"services", pce.ListServices().size()},
               {"policies", policies}});
      return;
    }
    if (s.size() == 2 && s[0].name == ".well-known" && s[1].name == "host-meta") {
      c.operation = "host-meta";
      if (!get) NotAllowed(c, "GET");
      c.reply.status = 200;
      c.reply.content_type = "application/xrd+xml";
      c.reply.body =
          "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n  <Link rel='restconf' "
          "href='/restconf'/>\n</XRD>\n";
      return;
    }
    if (s[0].name == "eonops" && !s[0].key && s.size() >= 2 && s[1].name == "trace" && !s[1].key)
      return Trace(c, s);
    if (s[0].name == "data" && !s[0].key) {
      if (s.size() == 1) {
        c.operation = "get-data";
        if (!get) NotAllowed(c, "GET");
        Encoder enc = MakeEncoder(OutputDialect(req, std::nullopt));
        SetJson(c, 200, {{"tapi-common:context", enc.Context(pce.ListComputedPaths())}});
        return;
      }
      if (s[1].name == "context" && !s[1].key) return Data(c, s);
    }
    if (s[0].name == "operations" && !s[0].key && s.size() == 2 && !s[1].key)
      return Operation(c, s[1].name);
    NotFound("no resource " + req.path);
  }

  Reply Handle(Request req) {
    const auto t0 = std::chrono::steady_clock::now();
    Ctx c{req, {}, "unknown", "ok"};
    try {
      Route(c);
    } catch (const TapiError& e) {
      HttpError h = ToHttpError(e);
      auto headers = std::move(c.reply.headers);
      SetJson(c, h.status, h.body);
      c.reply.headers = std::move(headers);
      if (e.code() == ErrorCode::kAccessDeniedNoToken)
        c.reply.headers["WWW-Authenticate"] = "Bearer realm=\"eonops-pce\"";
      if (c.outcome == "ok")
        c.outcome = h.status >= 500                        ? "server_error"
                    : h.status == 404                      ? "not_found"
                    : (h.status == 401 || h.status == 403) ? "unauthorized"
                                                           : "client_error";
    } catch (const std::exception& e) {
      HttpError h =
          ToHttpError(ErrorCode::kOperationFailed, std::string("internal error: ") + e.what());
      SetJson(c, h.status, h.body);
      c.outcome = "server_error";
    }
    if (req.method == "HEAD") c.reply.body.clear();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    pce.metrics().ObserveRequest(c.operation, c.outcome, secs);
    return std::move(c.reply);
  }

  void Serve(const httplib::Request& hreq, httplib::Response& hres) {
    if (live_view.Serve(hreq, hres)) return;
    Request req;
    req.method = hreq.method;
    req.path = hreq.path;
    for (const auto& [k, v] : hreq.params) req.query.emplace(k, v);
    req.body = hreq.body;
    req.authorization = hreq.get_header_value("Authorization");
    req.content_type = hreq.get_header_value("Content-Type");
    Reply r = Handle(std::move(req));
    hres.status = r.status;
    for (const auto& [k, v] : r.headers) hres.set_header(k, v);
    if (r.status != 204)
      hres.set_content(r.body, r.content_type.empty() ? kYangJson : r.content_type.c_str());
  }

  void Configure() {
    tokens.clear();
    if (!options.token_file.empty()) {
      try {
        for (const auto& t : tracking::LoadTokenFile(options.token_file)) tokens.push_back(t.token);
      } catch (const tracking::TrackingError& e) {
        throw std::runtime_error(e.what());
      }
    }
    const int threads = std::max(1, options.threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_keep_alive_max_count(100000);
    http.set_keep_alive_timeout(30);
    http.set_read_timeout(30, 0);
    http.set_write_timeout(30, 0);
    http.set_tcp_nodelay(true);
    auto serve = [this](const httplib::Request& q, httplib::Response& r) { Serve(q, r); };
    http.Get(".*", serve);
    http.Post(".*", serve);
    http.Put(".*", serve);
    http.Patch(".*", serve);
    http.Delete(".*", serve);
    http.Options(".*", serve);
    // httplib's own refusals (oversize body, bad request line, unknown method) get RFC 8040 bodies.
    http.set_error_handler([this](const httplib::Request& q, httplib::Response& r) {
      if (!r.body.empty()) return;
      const ErrorCode code = r.status == 413   ? ErrorCode::kTooBig
                             : r.status == 404 ? ErrorCode::kUnknownResource
                             : r.status == 405 ? ErrorCode::kOperationNotSupported
                             : r.status >= 500 ? ErrorCode::kOperationFailed
                                               : ErrorCode::kMalformedMessage;
      const int status = r.status;
      HttpError h = ToHttpError(code, "HTTP " + std::to_string(status) + " for " + q.method + " " +
                                          q.path.substr(0, 256));
      r.set_content(Dump(h.body), kYangJson);
      r.status = status;
      pce.metrics().ObserveRequest("http", status >= 500 ? "server_error" : "client_error", 0.0);
    });
    http.set_exception_handler(
        [this](const httplib::Request&, httplib::Response& r, std::exception_ptr ep) {
          std::string what = "internal error";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what += std::string(": ") + e.what();
          } catch (...) {
          }
          HttpError h = ToHttpError(ErrorCode::kOperationFailed, what);
          r.status = 500;
          r.set_content(Dump(h.body), kYangJson);
          pce.metrics().ObserveRequest("http", "server_error", 0.0);
        });
  }

  int Bind() {
    Configure();
    port = tracking::BindExclusive(http, options.host, options.port);
    return port;
  }
};

TapiServer::TapiServer(pce::Pce& pce, TapiServerOptions options)
    : impl_(std::make_unique<Impl>(pce, std::move(options))) {}

TapiServer::~TapiServer() { Stop(); }

int TapiServer::Start() {
  const int p = impl_->Bind();
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  while (!impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return p;
}

void TapiServer::Run() {
  impl_->Bind();
  impl_->http.listen_after_bind();
}

void TapiServer::Stop() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int TapiServer::port() const { return impl_->port; }

TapiServer::Reply TapiServer::Handle(const std::string& method, const std::string& target,
                                     const std::string& body, const std::string& authorization,
                                     const std::string& content_type) {
  Impl::Request req;
  req.method = method;
  const auto q = target.find('?');
  req.path = httplib::detail::decode_url(target.substr(0, q), false);
  if (q != std::string::npos) {
    std::string qs = target.substr(q + 1);
    size_t i = 0;
    while (i <= qs.size()) {
      size_t j = qs.find('&', i);
      if (j == std::string::npos) j = qs.size();
      std::string kv = qs.substr(i, j - i);
      if (!kv.empty()) {
        const auto eq = kv.find('=');
        req.query.emplace(DecodeQueryValue(kv.substr(0, eq)),
                          eq == std::string::npos ? "" : DecodeQueryValue(kv.substr(eq + 1)));
      }
      i = j + 1;
    }
  }
  req.body = body;
  req.authorization = authorization;
  req.content_type = content_type;
  return impl_->Handle(std::move(req));
}

}  // namespace eonops::tapi
