// Internal to agents/ (includes torch): saving and loading networks, and the Policy
// implementation behind policy.h.
//
//   ExportPolicy(manifest, *model, "runs/42/policy");          // manifest.json + weights.pt
//   std::unique_ptr<Policy> p = MakePolicy(manifest, *model);   // in-memory snapshot
#pragma once

#include <torch/nn/module.h>

#include <iosfwd>
#include <memory>
#include <string>

#include "agents/manifest.h"
#include "agents/policy.h"

namespace eonops::agents {

void SaveModule(const torch::nn::Module& module, const std::string& path);
void SaveModule(const torch::nn::Module& module, std::ostream& out);
// Loads every parameter and buffer by name, checking shapes and that nothing is missing or left
// over (torch's own load would silently resize); errors name `source` and the tensor.
void LoadModule(torch::nn::Module& module, const std::string& path);
void LoadModule(torch::nn::Module& module, std::istream& in, const std::string& source);

// The network a manifest describes, freshly initialised: ActorCritic or QNetwork.
std::shared_ptr<torch::nn::Module> MakeNetwork(const Manifest& manifest);

// Writes `network`'s weights and the manifest into `dir` (created if needed).
void ExportPolicy(const Manifest& manifest, const torch::nn::Module& network,
                  const std::string& dir);
// A Policy over a copy of `network` (later training does not change it).
std::unique_ptr<Policy> MakePolicy(const Manifest& manifest, const torch::nn::Module& network);

}  // namespace eonops::agents
