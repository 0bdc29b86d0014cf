// What the eonops gRPC clients and servers share: endpoints, call deadlines and the error a
// failed call raises. No gRPC types here, so tools/ and pce/ include it cheaply.
//
//   std::vector<std::string> workers = ParseEndpoints("host1:50051,host2:50051");
//   RpcOptions rpc;
//   rpc.deadline = std::chrono::seconds(3);  // every Reset/Step/Infer call
//   try { ... } catch (const RpcError& e) {
//     // e.what(): "twin worker host2:50051: Step: UNAVAILABLE: Socket closed"
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace eonops::proto {

struct RpcOptions {
  // Every call but OpenBatch: a worker that does not answer in time fails the call.
  std::chrono::milliseconds deadline{5000};
  // OpenBatch builds the network model on the worker (paths, QoT tables): slower.
  std::chrono::milliseconds open_deadline{60000};
  // How long a client waits, when it starts, for a worker that is not up yet (a pod starting).
  std::chrono::milliseconds connect_timeout{10000};
};

// A call that failed: `endpoint` and `method` are named in what(), with the gRPC status.
class RpcError : public std::runtime_error {
 public:
  // `code` is a grpc::StatusCode value.
  RpcError(const std::string& role, const std::string& endpoint, const std::string& method,
           int code, const std::string& message);
  const std::string& endpoint() const { return endpoint_; }
  const std::string& method() const { return method_; }
  int code() const { return code_; }
  const std::string& status_message() const { return message_; }

 private:
  std::string endpoint_, method_, message_;
  int code_;
};

// "OK", "INVALID_ARGUMENT", ... for a grpc::StatusCode value.
const char* StatusCodeName(int code);

// "host:port" with an optional "grpc://" prefix; throws std::invalid_argument on anything else.
std::string ParseEndpoint(const std::string& text);
// A comma-separated list of endpoints ("h1:50051,h2:50051"); empty items are an error.
std::vector<std::string> ParseEndpoints(const std::string& list);

bool IsLoopbackHost(const std::string& host);

// What a policy server is serving.
struct ServedModelInfo {
  std::string name;     // registered model name, or "local:<dir>"
  int64_t version = 0;  // registry version; 0 for a directory
  std::string run_id;
  std::string source;  // the directory or registry source it was loaded from
  int64_t loaded_at_ms = 0;
};

}  // namespace eonops::proto
