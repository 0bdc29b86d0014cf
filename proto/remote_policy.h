// RemotePolicy: an agents::Policy whose decisions come from a policy server
// (proto/policy_server.h, `eonops policy serve`), so code written against agents::Policy (the
// PCE, `eonops evaluate`) can use a policy served on another machine.
//
//   std::unique_ptr<RemotePolicy> policy = RemotePolicy::Connect("grpc://pce-policy:50052");
//   agents::Decision d = policy->Act(observation, mask);     // one Infer call
//   policy->ActBatch(n, observations, masks, decisions);     // n rows, one call
//
// The manifest is fetched once, at Connect; if the server later swaps to a version with other
// sizes, calls fail with INVALID_ARGUMENT (reconnect to pick it up); served_version() says which
// version answered the last call. A call that fails (server down, deadline passed) throws
// RpcError naming the endpoint; Act never blocks past the deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "agents/policy.h"
#include "proto/rpc.h"

namespace eonops::proto {

struct RemotePolicyOptions {
  std::chrono::milliseconds deadline{2000};          // every Infer / ModelInfo call
  std::chrono::milliseconds connect_timeout{10000};  // at Connect
};

class RemotePolicy : public agents::Policy {
 public:
  // `target`: "grpc://host:port" or "host:port". Throws RpcError (unreachable, nothing served)
  // or agents::ConfigError (a manifest this build cannot read).
  static std::unique_ptr<RemotePolicy> Connect(const std::string& target,
                                               RemotePolicyOptions options = {});
  ~RemotePolicy() override;

  agents::Decision Act(const float* observation, const uint8_t* mask) const override;
  void Scores(const float* observation, const uint8_t* mask, float* scores) const override;
  const agents::Manifest& manifest() const override;

  // `observations`: n x observation_size; `masks`: n x num_actions; `decisions`: n.
  void ActBatch(int n, const float* observations, const uint8_t* masks,
                agents::Decision* decisions) const;

  const std::string& endpoint() const;
  const ServedModelInfo& info() const;  // at Connect
  int64_t served_version() const;       // of the last answer

 private:
  struct Impl;
  explicit RemotePolicy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eonops::proto
