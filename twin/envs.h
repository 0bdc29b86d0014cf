// The RL environments of eonops: four use cases over one engine, DeepRMSA-style.
//
// Every environment shares one observation builder (BuildObservation, also what the PCE calls
// to ask a policy) and one action space: K candidate paths x B bands x the first J free blocks
// of each, plus a last "reject" action that is feasible only when nothing else is. Each use
// case declares, in UseCaseSpec below, its bands, its extra features and its reward:
//
//   deeprmsa     RMSA benchmark (Chen et al., JLT 2019): +1 accepted, -1 blocked.
//   latency-rsa  C band; accepted: 1 + latency_weight * (1 - latency / bound) (bound = the
//                request's, else 2x the shortest candidate's latency); blocked: -1.
//   qot-rmbsa    C, L and S; modulation from the worst-case GSNR; accepted:
//                1 + qot_weight * min(margin_db, margin_cap_db) / margin_cap_db; blocked: -1.
//   energy-rmsa  accepted: 1 - p / (1 + p / 2), p = energy_weight * incremental_power_w /
//                energy_reference_w (about 1 - p for small p, never down to -1); blocked: -1.
//
// Option mask_qot_impact (any use case; QoT tracking of the lit lightpaths, twin/qot_impact.h):
// an action is also masked when lighting it would push a lit lightpath below its format's
// GSNR threshold plus the network's gsnr_margin_db.
//
//   EnvOptions opt = EnvOptions::FromJson(experiment["env"], "exp.json.env");
//   auto env = MakeEnv(model, traffic, opt);        // or MakeEnvFactory(...) for a VecEnv
//
// Observation (all floats, documented per field in EnvSpec::observation_layout):
//   src one-hot [N] | dst one-hot [N] | bit rate / max bit rate [1] |
//   per (path k, band b), K*B groups of F = 2J + 9 features:
//     J x (block start / S, block size / S), slots needed / S, free slots / S,
//     mean free-run size / S, free runs / (S/2), length_km / 5000, hops / 10, feasible flag,
//     modulation bits / 6, use-case feature (latency / bound | GSNR margin / 10 dB |
//     incremental power / reference | 0)
//   then, when EnvOptions::link_features, per fibre and band: used slots / S, free runs / (S/2);
//   then, when EnvOptions::action_features, per action (reject excluded) the features of
//     ObservationLayout::ActionFeature: the block's capacity loss (and its gap to the least on
//     offer), position, run, slack, the path's hops/km/format, the rule that proposed it...
//
// Blocks: the first J free blocks of each (path, band) (DeepRMSA), or, with
// EnvOptions::block_rules, the slot each rule (first/last/best/exact fit, least capacity loss)
// picks there, so the action set holds every classic heuristic's choice; ExpertAction() maps a
// heuristic's decision to its action.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "twin/engine.h"
#include "twin/env.h"
#include "twin/capacity_loss.h"
#include "twin/heuristics.h"
#include "twin/network.h"
#include "twin/vec_env.h"

namespace eonops::twin {

enum class UseCase { kDeepRmsa, kLatencyRsa, kQotRmbsa, kEnergyRmsa };
UseCase ParseUseCase(const std::string& s);  // "deeprmsa" | "latency-rsa" | "qot-rmbsa" | "energy-rmsa"
const char* ToString(UseCase u);

struct EnvOptions {
  UseCase use_case = UseCase::kDeepRmsa;
  int j_blocks = 1;            // J: first free blocks offered per path and band
  // When set, the J blocks of each (path, band) are the slots these rules choose on it instead
  // of the first J free blocks: "first-fit", "last-fit", "best-fit", "exact-fit" (exact fit,
  // else first fit) or "mscl" (least capacity loss, twin/capacity_loss.h). A block another
  // rule already offered is masked, so every feasible action is a distinct (path, band, slot).
  std::vector<std::string> block_rules;
  // With block_rules: > 0 pools every rule's block of every (path, band) and offers only the
  // `top_candidates` of least capacity loss, best first (ties: earlier path, band, lower slot),
  // so the action count stays small whatever K is. Action 0 is then mscl-ksp's choice.
  int top_candidates = 0;
  // Per-action features after the classic observation (see the header comment): what a
  // per-candidate scorer needs to rank the actions, capacity loss included.
  bool action_features = false;
  // The capacity loss (features, the mscl rule, the top-candidate ranking) counts, for each
  // node pair, its first candidate route within this latency instead of its first candidate
  // (CapacityLoss, the lmscl-ksp rule); set it to the traffic's bound. Infinite: the first.
  double loss_reference_bound_us = std::numeric_limits<double>::infinity();
  // Per-fibre, per-band occupancy and fragmentation after the classic observation (before the
  // action features): what a critic needs to see the network's load.
  bool link_features = false;
  int episode_length = 1000;   // agent decisions per episode
  int warmup = 3000;           // requests served by `warmup_policy` after each reset
  std::string warmup_policy = "ksp-ff";
  double latency_weight = 0.5;
  double qot_weight = 0.5;
  double margin_cap_db = 5.0;
  double energy_weight = 0.5;
  double energy_reference_w = 1000.0;
  bool mask_qot_impact = false;  // see the header comment

  static EnvOptions FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
};

// The decision an action index stands for (what the environment or the PCE commits).
struct ActionChoice {
  bool feasible = false;
  Candidate candidate;
  int slot = -1;
};

// Sizes derived from the model and the options, shared by the env and the PCE.
struct ObservationLayout {
  // Per-action features (EnvOptions::action_features), in this order; kActionRule is the first
  // of J one-hot slots naming the rule that proposed the block.
  enum ActionFeature {
    kActionFeasible,
    kActionLossGap,   // -(loss - least loss) / max(least loss, W), clipped at -1
    kActionLoss,      // capacity loss / (100 W)
    kActionStart,     // block start / S
    kActionRun,       // free run holding the block / S
    kActionSlack,     // (run - width) / S: what the block leaves of its run
    kActionWidth,     // slots needed / S
    kActionHops,      // hops / 10
    kActionLength,    // km / 5000
    kActionBits,      // modulation bits / 6
    kActionPath,      // path index / K
    kActionBand,      // band index / max(1, B - 1)
    kActionFree,      // free slots of the path's band / S
    kActionRuns,      // free runs / (S / 2)
    kActionBusiest,   // most used fibre of the path: used slots / S
    kActionUseCase,   // latency / bound | GSNR margin / 10 dB | incremental power / reference | 0
    kActionRule,      // J one-hot slots
  };

  int num_nodes = 0, k = 0, bands = 0, j = 0;
  int features_per_group = 0;
  int base_size = 0;            // the classic observation: src, dst, bit rate, groups
  int link_features_size = 0;   // fibres x bands x 2 when link_features
  int action_features_size = 0; // per action (0 when !action_features)
  int observation_size = 0;
  int num_actions = 0;  // k * bands * j + 1, or top_candidates + 1 (the last is "reject")
  int top = 0;          // EnvOptions::top_candidates
  UseCase use_case = UseCase::kDeepRmsa;
  double max_bit_rate_gbps = 100.0;
  std::vector<FitPolicy> block_fits;  // per block rule; the "mscl" rule is marked in block_mscl
  std::vector<char> block_mscl;
  // Capacity loss tables when a rule or the action features need them. Shared by copies of
  // the layout (it is thread-safe); it refers to the model, which must outlive the layout.
  std::shared_ptr<const CapacityLoss> capacity_loss;

  static ObservationLayout Make(const NetworkModel& model, const EnvOptions& options, double max_bit_rate_gbps);
  int RejectAction() const { return num_actions - 1; }
  int ActionFeaturesOffset() const { return base_size + link_features_size; }
  // The spec an environment with this layout declares.
  EnvSpec MakeSpec(const std::string& config_hash) const;
};

// Fills `observation` (layout.observation_size floats), `mask` (layout.num_actions) and
// `actions` (resized to num_actions) for `request` in `state`. Used by every environment and by
// the PCE, so a served policy sees exactly what it was trained on.
void BuildObservation(const ObservationLayout& layout, const EnvOptions& options, const NetworkState& state,
                      const Request& request, float* observation, uint8_t* mask, std::vector<ActionChoice>* actions);

class RsaEnv : public Env {
 public:
  RsaEnv(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic, const EnvOptions& options,
         const std::string& config_hash = "");

  const EnvSpec& Spec() const override { return spec_; }
  void Reset(uint64_t seed, float* observation, uint8_t* mask) override;
  StepResult Step(int action, float* observation, uint8_t* mask) override;

  const Engine& engine() const { return engine_; }
  // The action index of what `heuristic` would do now (the expert action for imitation or
  // comparison), or -1 when its choice is not among this env's actions (it blocks, or its block
  // is not one the env offers). The reject action when nothing is feasible.
  int ExpertAction(const Heuristic& heuristic) const;
  const ObservationLayout& layout() const { return layout_; }
  const EnvOptions& options() const { return options_; }
  // What the last Step committed (valid when it accepted).
  const ActionChoice& last_choice() const { return last_choice_; }
  double last_incremental_power_w() const { return last_incremental_power_w_; }
  BlockCause last_block_cause() const { return last_cause_; }

 private:
  void Observe(float* observation, uint8_t* mask);
  float Reward(const ActionChoice& choice, double incremental_power_w) const;

  Engine engine_;
  EnvOptions options_;
  ObservationLayout layout_;
  EnvSpec spec_;
  std::unique_ptr<Heuristic> warmup_policy_;
  std::vector<ActionChoice> actions_;
  std::vector<uint8_t> mask_copy_;
  ActionChoice last_choice_;
  double last_incremental_power_w_ = 0.0;
  BlockCause last_cause_ = BlockCause::kNone;
  int steps_ = 0;
};

// An experiment's twin: scenario (network, traffic) plus env options, from one JSON document
// with sections "network", "traffic" and "env".
struct EnvConfig {
  NetworkOptions network;
  TrafficConfig traffic;
  EnvOptions env;
  std::string config_hash;  // of the canonical JSON of the three sections

  static EnvConfig FromJson(const nlohmann::json& j, const std::string& origin);
  nlohmann::json ToJson() const;
};

// Builds environments over one shared, read-only NetworkModel.
VecEnv::Factory MakeEnvFactory(std::shared_ptr<const NetworkModel> model, const EnvConfig& config);
std::unique_ptr<RsaEnv> MakeEnv(std::shared_ptr<const NetworkModel> model, const EnvConfig& config);

}  // namespace eonops::twin
