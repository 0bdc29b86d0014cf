#include "twin/envs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "twin/json_util.h"

namespace eonops::twin {

UseCase ParseUseCase(const std::string& s) {
  if (s == "deeprmsa") return UseCase::kDeepRmsa;
  if (s == "latency-rsa") return UseCase::kLatencyRsa;
  if (s == "qot-rmbsa") return UseCase::kQotRmbsa;
  if (s == "energy-rmsa") return UseCase::kEnergyRmsa;
  throw std::invalid_argument("use case must be deeprmsa, latency-rsa, qot-rmbsa or energy-rmsa, got '" + s + "'");
}

const char* ToString(UseCase u) {
  switch (u) {
    case UseCase::kDeepRmsa: return "deeprmsa";
    case UseCase::kLatencyRsa: return "latency-rsa";
    case UseCase::kQotRmbsa: return "qot-rmbsa";
    case UseCase::kEnergyRmsa: return "energy-rmsa";
  }
  return "?";
}

namespace {
const std::set<std::string> kEnvKeys = {"use_case",         "j_blocks",        "episode_length", "warmup",
                                        "warmup_policy",    "latency_weight",  "qot_weight",     "margin_cap_db",
                                        "energy_weight",    "energy_reference_w", "block_rules", "action_features",
                                        "link_features",    "top_candidates",  "mask_qot_impact", "_comment",
                                        "_source",          "loss_reference_bound_us"};
const std::set<std::string> kBlockRules = {"first-fit", "last-fit", "best-fit", "exact-fit", "mscl"};
}  // namespace

EnvOptions EnvOptions::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kEnvKeys.count(it.key())) ConfigError(origin + "." + it.key(), "unknown key");
  }
  EnvOptions o;
  try {
    if (j.contains("use_case")) o.use_case = ParseUseCase(RequireString(j, "use_case", origin));
    if (j.contains("warmup_policy")) {
      o.warmup_policy = RequireString(j, "warmup_policy", origin);
      MakeHeuristic(o.warmup_policy);  // validates the name
    }
  } catch (const std::invalid_argument& e) {
    ConfigError(origin, e.what());
  }
  if (j.contains("j_blocks")) o.j_blocks = RequireInt(j, "j_blocks", origin);
  if (j.contains("block_rules")) {
    const auto& b = j["block_rules"];
    if (!b.is_array() || b.empty() || b.size() > 16) {
      ConfigError(origin + ".block_rules", "expected an array of 1..16 rule names");
    }
    for (const auto& x : b) {
      if (!x.is_string() || !kBlockRules.count(x.get<std::string>())) {
        ConfigError(origin + ".block_rules",
                    "unknown rule " + x.dump() + " (known: first-fit, last-fit, best-fit, exact-fit, mscl)");
      }
      o.block_rules.push_back(x.get<std::string>());
    }
    if (j.contains("j_blocks") && o.j_blocks != static_cast<int>(o.block_rules.size())) {
      ConfigError(origin + ".j_blocks", "must equal the number of block_rules (or be left out)");
    }
    o.j_blocks = static_cast<int>(o.block_rules.size());
  }
  if (j.contains("top_candidates")) {
    o.top_candidates = RequireInt(j, "top_candidates", origin);
    if (o.top_candidates < 1 || o.top_candidates > 256) ConfigError(origin + ".top_candidates", "must be in 1..256");
    if (o.block_rules.empty()) ConfigError(origin + ".top_candidates", "needs block_rules");
  }
  if (j.contains("action_features")) o.action_features = RequireBool(j, "action_features", origin);
  if (j.contains("link_features")) o.link_features = RequireBool(j, "link_features", origin);
  if (j.contains("episode_length")) o.episode_length = RequireInt(j, "episode_length", origin);
  if (j.contains("warmup")) o.warmup = RequireInt(j, "warmup", origin);
  o.latency_weight = NumberOr(j, "latency_weight", o.latency_weight, origin);
  o.qot_weight = NumberOr(j, "qot_weight", o.qot_weight, origin);
  o.margin_cap_db = NumberOr(j, "margin_cap_db", o.margin_cap_db, origin);
  o.energy_weight = NumberOr(j, "energy_weight", o.energy_weight, origin);
  o.energy_reference_w = NumberOr(j, "energy_reference_w", o.energy_reference_w, origin);
  if (j.contains("loss_reference_bound_us")) {
    o.loss_reference_bound_us = RequireNumber(j, "loss_reference_bound_us", origin);
    if (!(o.loss_reference_bound_us > 0)) ConfigError(origin + ".loss_reference_bound_us", "must be positive");
  }
  if (j.contains("mask_qot_impact")) {
    if (!j["mask_qot_impact"].is_boolean()) ConfigError(origin + ".mask_qot_impact", "expected true or false");
    o.mask_qot_impact = j["mask_qot_impact"].get<bool>();
  }
  if (o.j_blocks < 1 || o.j_blocks > 64) ConfigError(origin + ".j_blocks", "must be in 1..64");
  if (o.episode_length < 1) ConfigError(origin + ".episode_length", "must be positive");
  if (o.warmup < 0) ConfigError(origin + ".warmup", "must not be negative");
  if (!(o.margin_cap_db > 0)) ConfigError(origin + ".margin_cap_db", "must be positive");
  if (!(o.energy_reference_w > 0)) ConfigError(origin + ".energy_reference_w", "must be positive");
  return o;
}

nlohmann::json EnvOptions::ToJson() const {
  nlohmann::json j = {{"use_case", ToString(use_case)},         {"j_blocks", j_blocks},
                      {"episode_length", episode_length},       {"warmup", warmup},
                      {"warmup_policy", warmup_policy},         {"latency_weight", latency_weight},
                      {"qot_weight", qot_weight},               {"margin_cap_db", margin_cap_db},
                      {"energy_weight", energy_weight},         {"energy_reference_w", energy_reference_w}};
  // Written only when used, so the config hashes of the classic environments do not change.
  if (!block_rules.empty()) j["block_rules"] = block_rules;
  if (top_candidates > 0) j["top_candidates"] = top_candidates;
  if (action_features) j["action_features"] = true;
  if (link_features) j["link_features"] = true;
  // Only when on, so that the config hash of every existing experiment stays what it was.
  if (mask_qot_impact) j["mask_qot_impact"] = true;
  if (std::isfinite(loss_reference_bound_us)) j["loss_reference_bound_us"] = loss_reference_bound_us;
  return j;
}

ObservationLayout ObservationLayout::Make(const NetworkModel& model, const EnvOptions& options, double max_bit_rate_gbps) {
  ObservationLayout l;
  l.num_nodes = model.topology().NumNodes();
  l.k = model.k();
  l.bands = model.NumBands();
  l.j = options.j_blocks;
  l.use_case = options.use_case;
  l.features_per_group = 2 * l.j + 9;
  l.base_size = 2 * l.num_nodes + 1 + l.k * l.bands * l.features_per_group;
  l.top = options.top_candidates;
  l.num_actions = (l.top > 0 ? l.top : l.k * l.bands * l.j) + 1;
  l.max_bit_rate_gbps = max_bit_rate_gbps;
  bool need_loss = options.action_features || l.top > 0;
  for (const std::string& rule : options.block_rules) {
    const bool mscl = rule == "mscl";
    l.block_mscl.push_back(mscl);
    l.block_fits.push_back(mscl ? FitPolicy::kFirstFit : ParseFitPolicy(rule));
    need_loss |= mscl;
  }
  if (options.link_features) l.link_features_size = model.topology().NumFibres() * l.bands * 2;
  if (options.action_features) l.action_features_size = kActionRule + l.j;
  l.observation_size = l.base_size + l.link_features_size + (l.num_actions - 1) * l.action_features_size;
  if (need_loss) {
    l.capacity_loss =
        std::make_shared<const CapacityLoss>(model, CapacityLoss::MaxRequestWidth(model, max_bit_rate_gbps),
                                             std::vector<std::pair<double, double>>{}, options.loss_reference_bound_us);
  }
  return l;
}

EnvSpec ObservationLayout::MakeSpec(const std::string& config_hash) const {
  EnvSpec s;
  s.name = ToString(use_case);
  s.observation_size = observation_size;
  s.num_actions = num_actions;
  s.config_hash = config_hash;
  int off = 0;
  s.observation_layout.push_back({"src_one_hot", off, num_nodes, "source node, one-hot"});
  off += num_nodes;
  s.observation_layout.push_back({"dst_one_hot", off, num_nodes, "destination node, one-hot"});
  off += num_nodes;
  s.observation_layout.push_back({"bit_rate", off, 1, "requested bit rate / max bit rate of the traffic"});
  off += 1;
  const char* extra = use_case == UseCase::kLatencyRsa   ? "latency / bound"
                      : use_case == UseCase::kQotRmbsa   ? "worst-case GSNR margin / 10 dB"
                      : use_case == UseCase::kEnergyRmsa ? "incremental power / energy_reference_w"
                                                         : "0";
  const std::string blocks = block_fits.empty() ? "first free blocks" : "blocks of the block rules";
  s.observation_layout.push_back(
      {"path_band_groups", off, k * bands * features_per_group,
       std::to_string(k) + " paths x " + std::to_string(bands) + " bands, " + std::to_string(features_per_group) +
           " features each: " + std::to_string(j) + " x (block start / S, free run size / S) of the " + blocks +
           ", slots needed / S, free slots / S, mean free run / S, "
           "free runs / (S/2), length_km / 5000, hops / 10, feasible, modulation bits / 6, " + extra});
  off += k * bands * features_per_group;
  if (link_features_size > 0) {
    s.observation_layout.push_back({"link_occupancy", off, link_features_size,
                                    "per fibre and band: used slots / S, free runs / (S/2)"});
    off += link_features_size;
  }
  if (action_features_size > 0) {
    s.observation_layout.push_back(
        {"action_features", off, (num_actions - 1) * action_features_size,
         "per action (reject excluded), " + std::to_string(action_features_size) +
             " each: feasible, -(capacity loss - least loss) / least loss (>= -1), capacity loss / (100 W), block start / S, "
             "free run / S, (run - width) / S, slots needed / S, hops / 10, km / 5000, modulation bits / 6, "
             "path / K, band / (B-1), free slots / S, free runs / (S/2), busiest fibre used / S, " + extra + ", " +
             std::to_string(j) + "-way one-hot (multi-hot in top-candidate mode) of the block rule(s)"});
    off += (num_actions - 1) * action_features_size;
  }
  if (top > 0) {
    s.action_description = "a < " + std::to_string(top) +
                           ": the a-th least capacity-loss block among every block rule's choice on every "
                           "(path, band) (ties: earlier path, band, lower slot); a = " +
                           std::to_string(num_actions - 1) + " rejects and is feasible only when nothing else is";
  } else if (block_fits.empty()) {
    s.action_description = "a = (path * " + std::to_string(bands) + " + band) * " + std::to_string(j) +
                           " + block, block-th free block (first-fit within it) of the path's band; a = " +
                           std::to_string(num_actions - 1) + " rejects and is feasible only when nothing else is";
  } else {
    s.action_description = "a = (path * " + std::to_string(bands) + " + band) * " + std::to_string(j) +
                           " + rule, the slot that block rule chooses on the path's band (masked when an earlier "
                           "rule chose the same slot); a = " +
                           std::to_string(num_actions - 1) + " rejects and is feasible only when nothing else is";
  }
  switch (use_case) {
    case UseCase::kDeepRmsa: s.reward_description = "+1 accepted, -1 blocked"; break;
    case UseCase::kLatencyRsa: s.reward_description = "accepted: 1 + w (1 - latency / bound); blocked: -1"; break;
    case UseCase::kQotRmbsa: s.reward_description = "accepted: 1 + w min(margin, cap) / cap; blocked: -1"; break;
    case UseCase::kEnergyRmsa: s.reward_description = "accepted: 1 - p / (1 + p/2), p = w dP / P_ref; blocked: -1"; break;
  }
  return s;
}

namespace {

constexpr int kMaxWords = 16;

// The free run of `occ` that holds slot `s` (its length), 0 when s is occupied.
int RunHolding(const uint64_t* occ, int slots, int s) {
  auto busy = [&](int i) { return (occ[i >> 6] >> (i & 63)) & 1u; };
  if (busy(s)) return 0;
  int a = s, b = s;
  while (a > 0 && !busy(a - 1)) --a;
  while (b + 1 < slots && !busy(b + 1)) ++b;
  return b - a + 1;
}

// The slot each block rule picks on one (path, band); -1 where it picks none.
void RuleSlots(const ObservationLayout& l, const uint64_t* occ, int slots, int width, const int64_t* loss,
               int* out) {
  uint64_t starts[kMaxWords];
  for (int j = 0; j < l.j; ++j) {
    if (!l.block_mscl[j]) {
      out[j] = Fit(l.block_fits[j], occ, slots, width);
      continue;
    }
    out[j] = -1;
    if (FeasibleStarts(occ, slots, width, starts) == 0) continue;
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int w = 0; w < (slots + 63) / 64; ++w) {
      for (uint64_t x = starts[w]; x; x &= x - 1) {
        const int s = w * 64 + __builtin_ctzll(x);
        if (loss[s] < best) {
          best = loss[s];
          out[j] = s;
        }
      }
    }
  }
}

}  // namespace

namespace {

// One offered block and what its action features are made of.
struct Offer {
  int64_t loss = -1;  // capacity loss, -1 when not computed
  int k = 0, band = 0, slot = 0, run = 0;
  uint32_t rules = 0;  // bit j: block rule j chose it
  Candidate candidate;
  int free = 0, runs = 0, busiest = 0;
  float use_case = 0.0f;
};

void WriteActionFeatures(const ObservationLayout& l, const NetworkModel& m, const Offer& o, float* f) {
  const float inv_s = 1.0f / m.plan().band(o.band).num_slots;
  const Candidate& c = o.candidate;
  f[ObservationLayout::kActionFeasible] = 1.0f;
  f[ObservationLayout::kActionLoss] =
      o.loss >= 0 ? static_cast<float>(o.loss / (100.0 * l.capacity_loss->max_width())) : 0.0f;
  f[ObservationLayout::kActionStart] = o.slot * inv_s;
  f[ObservationLayout::kActionRun] = o.run * inv_s;
  f[ObservationLayout::kActionSlack] = (o.run - c.width) * inv_s;
  f[ObservationLayout::kActionWidth] = c.width * inv_s;
  f[ObservationLayout::kActionHops] = c.path->hops / 10.0f;
  f[ObservationLayout::kActionLength] = static_cast<float>(c.path->length_km / 5000.0);
  f[ObservationLayout::kActionBits] = m.modulations().format(c.modulation).bits_per_symbol / 6.0f;
  f[ObservationLayout::kActionPath] = static_cast<float>(o.k) / l.k;
  f[ObservationLayout::kActionBand] = l.bands > 1 ? static_cast<float>(o.band) / (l.bands - 1) : 0.0f;
  f[ObservationLayout::kActionFree] = o.free * inv_s;
  f[ObservationLayout::kActionRuns] = o.runs * 2.0f * inv_s;
  f[ObservationLayout::kActionBusiest] = o.busiest * inv_s;
  f[ObservationLayout::kActionUseCase] = o.use_case;
  for (int j = 0; j < l.j; ++j) {
    if (o.rules & (1u << j)) f[ObservationLayout::kActionRule + j] = 1.0f;
  }
}

}  // namespace

void BuildObservation(const ObservationLayout& l, const EnvOptions& options, const NetworkState& state,
                      const Request& r, float* obs, uint8_t* mask, std::vector<ActionChoice>* actions) {
  const NetworkModel& m = state.model();
  std::fill(obs, obs + l.observation_size, 0.0f);
  std::fill(mask, mask + l.num_actions, uint8_t{0});
  actions->assign(l.num_actions, ActionChoice{});
  obs[r.src] = 1.0f;
  obs[l.num_nodes + r.dst] = 1.0f;
  obs[2 * l.num_nodes] = static_cast<float>(r.bit_rate_gbps / l.max_bit_rate_gbps);
  float* group = obs + 2 * l.num_nodes + 1;
  float* action_feat = obs + l.ActionFeaturesOffset();
  const int paths = static_cast<int>(m.paths().Get(r.src, r.dst).size());
  uint64_t occ[kMaxWords];
  int starts[64], sizes[64];
  int64_t loss[kMaxWords * 64];
  std::vector<int64_t> action_loss(l.num_actions, -1);
  std::vector<Offer> pool;  // top-candidate mode: every distinct rule block, ranked below
  const bool rules = !l.block_fits.empty();
  std::optional<CapacityLoss::Scope> loss_scope;
  if (l.capacity_loss) loss_scope.emplace(*l.capacity_loss, state);
  // Latency reference when the request carries no bound: twice the shortest candidate's.
  double latency_ref = r.latency_bound_us;
  if (!std::isfinite(latency_ref) && paths > 0) latency_ref = 2 * m.Evaluate(r, 0, 0).latency_us;
  bool any = false;
  for (int k = 0; k < l.k; ++k) {
    for (int b = 0; b < l.bands; ++b, group += l.features_per_group) {
      if (k >= paths) continue;  // fewer candidates than K: the group stays zero
      Candidate c = m.Evaluate(r, k, b);
      const int S = m.plan().band(b).num_slots;
      const float inv_s = 1.0f / S;
      state.spectrum().PathOccupancy(c.path->fibres, b, occ);
      Offer o;
      o.k = k;
      o.band = b;
      o.candidate = c;
      o.free = CountFree(occ, S);
      o.runs = CountFreeRuns(occ, S);
      const bool with_loss = c.usable() && l.capacity_loss && c.width <= S;
      if (with_loss) l.capacity_loss->LossAll(state, *c.path, b, c.width, loss);
      int n_blocks = 0;
      if (c.usable() && !rules) {
        n_blocks = FreeBlocks(occ, S, c.width, l.j, starts, sizes);
      } else if (c.usable()) {
        RuleSlots(l, occ, S, c.width, loss, starts);
        n_blocks = l.j;
      }
      switch (l.use_case) {
        case UseCase::kLatencyRsa: o.use_case = static_cast<float>(c.latency_us / latency_ref); break;
        case UseCase::kQotRmbsa:
          o.use_case =
              c.modulation >= 0
                  ? static_cast<float>((c.gsnr_db - m.modulations().format(c.modulation).gsnr_threshold_db) / 10.0)
                  : 0.0f;
          break;
        case UseCase::kEnergyRmsa:
          o.use_case = c.usable() ? static_cast<float>(state.IncrementalPowerW(c) / options.energy_reference_w) : 0.0f;
          break;
        case UseCase::kDeepRmsa: break;
      }
      for (int f : c.path->fibres) o.busiest = std::max(o.busiest, state.spectrum().UsedSlots(f, b));
      for (int j = 0; j < n_blocks; ++j) {
        const int slot = starts[j];
        if (slot < 0) continue;
        int first = j;  // the first rule that chose this block: later ones are the same action
        for (int i = 0; i < j; ++i) {
          if (starts[i] == slot) {
            first = i;
            break;
          }
        }
        o.slot = slot;
        o.run = rules ? RunHolding(occ, S, slot) : sizes[j];
        o.loss = with_loss ? loss[slot] : -1;
        group[2 * j] = slot * inv_s;
        group[2 * j + 1] = o.run * inv_s;
        // QoT-impact hook (twin/qot_impact.h): no action that pushes a lit lightpath below its threshold.
        if (options.mask_qot_impact &&
            state.QotImpactOf(c, slot, m.options().gsnr_margin_db).min_margin_db < 0) {
          continue;
        }
        if (l.top > 0) {
          if (first < j) {
            for (Offer& p : pool) {
              if (p.k == k && p.band == b && p.slot == slot) p.rules |= 1u << j;
            }
          } else {
            o.rules = 1u << j;
            pool.push_back(o);
          }
          continue;
        }
        if (first < j) continue;
        const int a = (k * l.bands + b) * l.j + j;
        mask[a] = 1;
        (*actions)[a] = {true, c, slot};
        any = true;
        action_loss[a] = o.loss;
        o.rules = rules ? 1u << j : 0u;
        if (l.action_features_size > 0) {
          WriteActionFeatures(l, m, o, action_feat + static_cast<size_t>(a) * l.action_features_size);
        }
      }
      float* g = group + 2 * l.j;
      g[0] = c.width * inv_s;
      g[1] = o.free * inv_s;
      g[2] = o.runs > 0 ? static_cast<float>(o.free) / o.runs * inv_s : 0.0f;
      g[3] = o.runs * 2.0f * inv_s;
      g[4] = static_cast<float>(c.path->length_km / 5000.0);
      g[5] = c.path->hops / 10.0f;
      g[6] = c.usable() ? 1.0f : 0.0f;
      g[7] = c.modulation >= 0 ? m.modulations().format(c.modulation).bits_per_symbol / 6.0f : 0.0f;
      g[8] = o.use_case;
    }
  }
  if (l.top > 0) {
    // Least loss first; ties as mscl-ksp breaks them (earlier path, band, lower slot).
    std::sort(pool.begin(), pool.end(), [](const Offer& x, const Offer& y) {
      return std::tie(x.loss, x.k, x.band, x.slot) < std::tie(y.loss, y.k, y.band, y.slot);
    });
    const int n = std::min<int>(l.top, static_cast<int>(pool.size()));
    for (int a = 0; a < n; ++a) {
      mask[a] = 1;
      (*actions)[a] = {true, pool[a].candidate, pool[a].slot};
      action_loss[a] = pool[a].loss;
      if (l.action_features_size > 0) {
        WriteActionFeatures(l, m, pool[a], action_feat + static_cast<size_t>(a) * l.action_features_size);
      }
    }
    any = n > 0;
  }
  if (l.link_features_size > 0) {
    float* lf = obs + l.base_size;
    for (int f = 0; f < m.topology().NumFibres(); ++f) {
      for (int b = 0; b < l.bands; ++b, lf += 2) {
        const int S = m.plan().band(b).num_slots;
        lf[0] = static_cast<float>(state.spectrum().UsedSlots(f, b)) / S;
        lf[1] = CountFreeRuns(state.spectrum().Words(f, b), S) * 2.0f / S;
      }
    }
  }
  if (l.action_features_size > 0 && l.capacity_loss) {
    // The gap to the least loss on offer: 0 for the MSCL choice, the prior a scorer starts from.
    int64_t least = std::numeric_limits<int64_t>::max();
    for (int64_t v : action_loss) {
      if (v >= 0) least = std::min(least, v);
    }
    // Relative to the least loss, so the prior's sharpness does not depend on how loaded the
    // network is: -0.1 is "10 % more capacity lost than the best choice"; at most -1.
    const double scale = std::max<double>(least, l.capacity_loss->max_width());
    for (int a = 0; a + 1 < l.num_actions; ++a) {
      if (action_loss[a] < 0) continue;
      action_feat[static_cast<size_t>(a) * l.action_features_size + ObservationLayout::kActionLossGap] =
          static_cast<float>(std::max(-1.0, -(action_loss[a] - least) / scale));
    }
  }
  if (!any) mask[l.RejectAction()] = 1;
}

RsaEnv::RsaEnv(std::shared_ptr<const NetworkModel> model, const TrafficConfig& traffic, const EnvOptions& options,
               const std::string& config_hash)
    : engine_(model, traffic, 0), options_(options) {
  if (options.use_case == UseCase::kQotRmbsa && model->options().modulation_mode != ModulationMode::kGsnr) {
    throw std::invalid_argument("qot-rmbsa needs network.modulation_mode \"gsnr\"");
  }
  for (int b = 0; b < model->NumBands(); ++b) {
    if (model->plan().band(b).num_slots > 1024) throw std::invalid_argument("bands of more than 1024 slots are not supported");
  }
  const double max_rate = traffic.MaxBitRateGbps();
  if (options.mask_qot_impact) engine_.EnableQotTracking();
  layout_ = ObservationLayout::Make(*model, options, max_rate);
  spec_ = layout_.MakeSpec(config_hash);
  warmup_policy_ = MakeHeuristic(options.warmup_policy, HeuristicOptions::ForTraffic(traffic));
  mask_copy_.resize(layout_.num_actions);
}

int RsaEnv::ExpertAction(const Heuristic& heuristic) const {
  if (mask_copy_[layout_.RejectAction()]) return layout_.RejectAction();
  const Decision d = heuristic.Decide(engine_.current(), engine_.state());
  if (!d.accepted) return -1;
  for (int a = 0; a + 1 < layout_.num_actions; ++a) {
    const ActionChoice& c = actions_[a];
    if (mask_copy_[a] && c.candidate.path == d.candidate.path && c.candidate.band == d.candidate.band &&
        c.slot == d.slot) {
      return a;
    }
  }
  return -1;
}

void RsaEnv::Observe(float* observation, uint8_t* mask) {
  BuildObservation(layout_, options_, engine_.state(), engine_.current(), observation, mask, &actions_);
  std::copy(mask, mask + layout_.num_actions, mask_copy_.begin());
}

void RsaEnv::Reset(uint64_t seed, float* observation, uint8_t* mask) {
  engine_.Reset(seed);
  for (int i = 0; i < options_.warmup; ++i) {
    const Request& r = engine_.Advance();
    Decision d = warmup_policy_->Decide(r, engine_.state());
    if (d.accepted) engine_.Commit(d.candidate, d.slot);
  }
  engine_.Advance();
  steps_ = 0;
  Observe(observation, mask);
}

float RsaEnv::Reward(const ActionChoice& c, double dp_w) const {
  if (!c.feasible) return -1.0f;
  switch (options_.use_case) {
    case UseCase::kDeepRmsa: return 1.0f;
    case UseCase::kLatencyRsa: {
      const Request& r = engine_.current();
      double bound = r.latency_bound_us;
      if (!std::isfinite(bound)) bound = 2 * engine_.model().Evaluate(r, 0, 0).latency_us;
      return static_cast<float>(1.0 + options_.latency_weight * (1.0 - c.candidate.latency_us / bound));
    }
    case UseCase::kQotRmbsa: {
      const double margin =
          c.candidate.gsnr_db - engine_.model().modulations().format(c.candidate.modulation).gsnr_threshold_db;
      return static_cast<float>(1.0 + options_.qot_weight * std::min(margin, options_.margin_cap_db) / options_.margin_cap_db);
    }
    case UseCase::kEnergyRmsa: {
      // Saturating, so that accepting never scores as low as blocking (-1) however much power
      // the lightpath lights up; about 1 - p for small p.
      const double p = options_.energy_weight * std::max(0.0, dp_w) / options_.energy_reference_w;
      return static_cast<float>(1.0 - p / (1.0 + 0.5 * p));
    }
  }
  return 0.0f;
}

StepResult RsaEnv::Step(int action, float* observation, uint8_t* mask) {
  StepResult res;
  ActionChoice choice;
  // An infeasible or out-of-range action blocks the request: never a crash, never a commit.
  if (action >= 0 && action < layout_.num_actions && mask_copy_[action] && action != layout_.RejectAction()) {
    choice = actions_[action];
  }
  last_incremental_power_w_ = 0.0;
  if (choice.feasible) {
    last_incremental_power_w_ = engine_.state().IncrementalPowerW(choice.candidate);
    res.reward = Reward(choice, last_incremental_power_w_);
    if (engine_.Commit(choice.candidate, choice.slot) < 0) {
      throw std::logic_error("env: a feasible action's block was not free");
    }
    res.accepted = true;
    last_cause_ = BlockCause::kNone;
  } else {
    res.reward = -1.0f;
    // Why it was blocked: what a first-fit search would have said.
    last_cause_ = mask_copy_[layout_.RejectAction()] ? warmup_policy_->Decide(engine_.current(), engine_.state()).cause
                                                      : BlockCause::kNone;
  }
  last_choice_ = choice;
  ++steps_;
  // The network goes on after the last step of an episode: the end is a truncation.
  res.done = steps_ >= options_.episode_length;
  res.truncated = res.done;
  engine_.Advance();
  Observe(observation, mask);
  return res;
}

EnvConfig EnvConfig::FromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) ConfigError(origin, "expected an object");
  EnvConfig c;
  if (j.contains("network")) c.network = NetworkOptions::FromJson(j["network"], origin + ".network");
  if (j.contains("traffic")) c.traffic = TrafficConfig::FromJson(j["traffic"], origin + ".traffic");
  if (j.contains("env")) c.env = EnvOptions::FromJson(j["env"], origin + ".env");
  c.config_hash = ConfigHash(c.ToJson());
  return c;
}

nlohmann::json EnvConfig::ToJson() const {
  return {{"network", network.ToJson()}, {"traffic", traffic.ToJson()}, {"env", env.ToJson()}};
}

VecEnv::Factory MakeEnvFactory(std::shared_ptr<const NetworkModel> model, const EnvConfig& config) {
  return [model, config]() -> std::unique_ptr<Env> {
    return std::make_unique<RsaEnv>(model, config.traffic, config.env, config.config_hash);
  };
}

std::unique_ptr<RsaEnv> MakeEnv(std::shared_ptr<const NetworkModel> model, const EnvConfig& config) {
  return std::make_unique<RsaEnv>(model, config.traffic, config.env, config.config_hash);
}

}  // namespace eonops::twin
