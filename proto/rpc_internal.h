// Internal to eonops_proto: the gRPC plumbing the clients and servers share.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "proto/rpc.h"

namespace eonops::proto::internal {

// Observations of large batches exceed gRPC's 4 MiB default.
constexpr int kMaxMessageBytes = 512 << 20;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& endpoint);
// Waits until the channel is connected; throws RpcError(UNAVAILABLE) naming the endpoint.
void WaitConnected(grpc::Channel& channel, const std::string& role, const std::string& endpoint,
                   std::chrono::milliseconds timeout);
void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout);
[[noreturn]] void Throw(const std::string& role, const std::string& endpoint,
                        const std::string& method, const grpc::Status& status);

grpc::Status InvalidArgument(const std::string& message);

// Binds `builder` to host:port (port 0: any free port), sets message limits and the standard
// grpc.health.v1 service (for Kubernetes gRPC probes). `selected_port` is filled by Start.
void ConfigureServer(grpc::ServerBuilder* builder, const std::string& host, int port,
                     int* selected_port);
// Builds and starts; throws std::runtime_error naming host:port when it cannot bind.
std::unique_ptr<grpc::Server> StartServer(grpc::ServerBuilder* builder, const std::string& what,
                                          const std::string& host, int port,
                                          const int* selected_port);

int64_t NowMs();

}  // namespace eonops::proto::internal
