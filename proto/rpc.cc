#include "proto/rpc.h"

#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <stdexcept>

#include "proto/rpc_internal.h"

namespace eonops::proto {

namespace {
std::string Describe(const std::string& role, const std::string& endpoint,
                     const std::string& method, int code, const std::string& message) {
  return role + " " + endpoint + ": " + method + ": " + StatusCodeName(code) +
         (message.empty() ? "" : ": " + message);
}
}  // namespace

RpcError::RpcError(const std::string& role, const std::string& endpoint, const std::string& method,
                   int code, const std::string& message)
    : std::runtime_error(Describe(role, endpoint, method, code, message)),
      endpoint_(endpoint),
      method_(method),
      message_(message),
      code_(code) {}

const char* StatusCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(sizeof kNames / sizeof kNames[0])) return kNames[code];
  return "UNKNOWN_STATUS";
}

std::string ParseEndpoint(const std::string& text) {
  std::string s = text;
  if (s.rfind("grpc://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/') s.pop_back();
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument("endpoint '" + text + "': " + why +
                                " (expected host:port, e.g. 127.0.0.1:50051)");
  };
  size_t colon;
  if (!s.empty() && s[0] == '[') {  // [v6]:port
    const size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      fail("bad IPv6 address");
    colon = close + 1;
  } else {
    colon = s.rfind(':');
    if (colon == std::string::npos) fail("no port");
    if (s.find(':') != colon) fail("IPv6 addresses go in brackets");
  }
  if (colon == 0) fail("no host");
  const std::string port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    fail("bad port");
  const int p = std::stoi(port);
  if (p < 1 || p > 65535) fail("port out of range");
  return s;
}

std::vector<std::string> ParseEndpoints(const std::string& list) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (true) {
    const size_t comma = list.find(',', begin);
    const std::string item =
        list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (item.empty()) throw std::invalid_argument("endpoint list '" + list + "' has an empty item");
    out.push_back(ParseEndpoint(item));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace internal {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Reconnect quickly after a worker restarts instead of gRPC's default backoff of up to 2 min.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Each client gets its own connection: a learner's many environments should not share one
  // HTTP/2 connection with an unrelated channel to the same worker.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

void WaitConnected(grpc::Channel& channel, const std::string& role, const std::string& endpoint,
                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::system_clock::now() + timeout;
  if (channel.WaitForConnected(deadline)) return;
  throw RpcError(role, endpoint, "connect", static_cast<int>(grpc::StatusCode::UNAVAILABLE),
                 "not reachable within " + std::to_string(timeout.count()) + " ms");
}

void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

void Throw(const std::string& role, const std::string& endpoint, const std::string& method,
           const grpc::Status& status) {
  throw RpcError(role, endpoint, method, static_cast<int>(status.error_code()),
                 status.error_message());
}

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

namespace {
std::string HostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}
}  // namespace

void ConfigureServer(grpc::ServerBuilder* builder, const std::string& host, int port,
                     int* selected_port) {
  grpc::EnableDefaultHealthCheckService(true);
  builder->AddListeningPort(HostPort(host, port), grpc::InsecureServerCredentials(), selected_port);
  builder->SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder->SetMaxSendMessageSize(kMaxMessageBytes);
  // One port, one server: do not share it with another process (SO_REUSEPORT would let two
  // workers started on the same port split the connections silently).
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
}

std::unique_ptr<grpc::Server> StartServer(grpc::ServerBuilder* builder, const std::string& what,
                                          const std::string& host, int port,
                                          const int* selected_port) {
  std::unique_ptr<grpc::Server> server = builder->BuildAndStart();
  if (!server || *selected_port == 0) {
    throw std::runtime_error(what + ": cannot listen on " + HostPort(host, port) +
                             " (address in use, or not an address of this machine)");
  }
  return server;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace internal
}  // namespace eonops::proto
