#include "lifecycle/server.h"

#include <httplib.h>

#include <thread>
#include <vector>

#include "tracking/errors.h"
#include "tracking/exclusive_listen.h"
#include "tracking/server.h"

namespace eonops::lifecycle {

namespace {

using Json = nlohmann::json;

void Reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

void Error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
  Reply(res, status, {{"error", {{"code", code}, {"message", msg}}}});
}

bool SameToken(const std::string& presented, const std::string& expected) {
  unsigned char diff = presented.size() != expected.size() ? 1 : 0;
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>((i < presented.size() ? presented[i] : 0) ^ expected[i]);
  return diff == 0;
}

}  // namespace

struct LifecycleServer::Impl {
  LifecycleService& service;
  LifecycleServerOptions options;
  httplib::Server http;
  std::thread thread;
  std::vector<std::string> tokens;

  Impl(LifecycleService& s, LifecycleServerOptions o) : service(s), options(std::move(o)) {}

  bool Authorised(const httplib::Request& req, httplib::Response& res) {
    if (tokens.empty()) return true;
    const std::string h = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (h.compare(0, prefix.size(), prefix) != 0) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"eonops-lifecycle\"");
      Error(res, 401, "unauthenticated", "this request needs Authorization: Bearer <token>");
      return false;
    }
    const std::string presented = h.substr(prefix.size());
    for (const auto& t : tokens)
      if (SameToken(presented, t)) return true;
    Error(res, 403, "permission_denied", "the bearer token is not valid here");
    return false;
  }

  void Configure() {
    if (!options.token_file.empty()) {
      try {
        for (const auto& t : tracking::LoadTokenFile(options.token_file)) tokens.push_back(t.token);
      } catch (const tracking::TrackingError& e) {
        throw std::runtime_error(e.what());
      }
    }
    http.new_task_queue = [] { return new httplib::ThreadPool(4); };
    http.set_payload_max_length(1 << 16);
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      Reply(res, 200, {{"status", "ok"}});
    });
    http.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
      Reply(res, 200, service.Status());
    });
    http.Post("/retrain", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorised(req, res)) return;
      Json body = req.body.empty() ? Json::object() : Json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        Error(res, 400, "bad_request", "the body must be a JSON object like {\"use_case\": \"deeprmsa\"}");
        return;
      }
      twin::UseCase u;
      try {
        const Json& uc = body.contains("use_case") ? body["use_case"] : Json();
        if (!uc.is_string()) throw std::invalid_argument("use_case is missing or not a string");
        u = twin::ParseUseCase(uc.get<std::string>());
      } catch (const std::exception& e) {
        Error(res, 400, "invalid_parameter_value", e.what());
        return;
      }
      std::string heuristic;
      if (body.contains("heuristic")) {
        if (!body["heuristic"].is_string()) {
          Error(res, 400, "invalid_parameter_value", "heuristic must be a string such as \"ksp-bf\"");
          return;
        }
        heuristic = body["heuristic"].get<std::string>();
      }
      std::string why;
      if (!service.RequestRetrain(u, heuristic, &why)) {
        Error(res, 409, "resource_conflict", why);
        return;
      }
      Reply(res, 202, {{"status", "started"}, {"use_case", twin::ToString(u)}});
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const int status = res.status;
      Error(res, status, status == 404 ? "not_found" : "bad_request",
            "HTTP " + std::to_string(status) + " for " + req.method + " " + req.path.substr(0, 200));
      res.status = status;
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what += std::string(": ") + e.what();
      } catch (...) {
      }
      Error(res, 500, "internal_error", what);
    });
  }
};

LifecycleServer::LifecycleServer(LifecycleService& service, LifecycleServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

LifecycleServer::~LifecycleServer() { Stop(); }

int LifecycleServer::Start() {
  impl_->Configure();
  const auto& o = impl_->options;
  const int port = tracking::BindExclusive(impl_->http, o.host, o.port);  // one owner per port
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  while (!impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void LifecycleServer::Stop() {
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace eonops::lifecycle
