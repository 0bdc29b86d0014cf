#include "lifecycle/gate.h"

#include <cmath>
#include <sstream>

#include "lifecycle/replay.h"

namespace eonops::lifecycle {

namespace {

using Json = nlohmann::json;

std::string Pct(double x) {
  if (!std::isfinite(x)) return "n/a";
  std::ostringstream s;
  s.precision(3);
  s << 100.0 * x << "%";
  return s.str();
}

std::string Ci(const PairedComparison& c) {
  std::ostringstream s;
  s.precision(3);
  s << "difference " << c.difference << ", 95% CI [" << c.ci95_low << ", " << c.ci95_high << "]";
  return s.str();
}

}  // namespace

GateVerdict JudgeChallenger(const Contender& champion, const Contender& challenger,
                            const std::vector<Contender>& heuristics, const ReplayTrace& trace,
                            twin::UseCase use_case,
                            std::shared_ptr<const twin::NetworkModel> model,
                            const twin::TrafficConfig& calibrated, const GateOptions& g) {
  GateVerdict v;
  const int64_t judged = trace.Count(use_case);
  v.figures["trace"] = {{"requests", judged},
                        {"all_requests", trace.requests.size()},
                        {"initial_lightpaths", trace.initial.size()},
                        {"first_seq", trace.first_seq},
                        {"last_seq", trace.last_seq}};
  v.figures["champion"] = champion.label;
  v.figures["challenger"] = challenger.label;
  const ReplayResult rc = Replay(model, trace, use_case, champion.rule(), g.seed);
  const ReplayResult rn = Replay(model, trace, use_case, challenger.rule(), g.seed);
  const PairedComparison replay = CompareBatches(rn.blocked_flags, rc.blocked_flags, g.replay_batches);
  Json hj = Json::object();
  const Contender* best = nullptr;
  std::optional<ReplayResult> best_replay;
  for (const Contender& h : heuristics) {
    ReplayResult r = Replay(model, trace, use_case, h.rule(), g.seed);
    hj[h.label] = r.ToJson();
    if (!best_replay || r.blocking < best_replay->blocking) {
      best_replay = std::move(r);
      best = &h;
    }
  }
  v.figures["replay"] = {{"champion", rc.ToJson()},
                         {"challenger", rn.ToJson()},
                         {"heuristics", hj},
                         {"difference", replay.ToJson()},
                         {"batches", g.replay_batches}};
  std::optional<PairedComparison> twin, best_replay_diff, best_twin_diff;
  if (best) best_replay_diff = CompareBatches(best_replay->blocked_flags, rc.blocked_flags, g.replay_batches);
  if (g.twin_seeds > 0) {
    const uint64_t seed0 = g.seed * 1000 + 1;
    const auto bc = TwinBlocking(model, calibrated, champion.rule(), g.twin_seeds, seed0,
                                 g.twin_requests, g.twin_warmup);
    const auto bn = TwinBlocking(model, calibrated, challenger.rule(), g.twin_seeds, seed0,
                                 g.twin_requests, g.twin_warmup);
    twin = ComparePaired(bn, bc);
    Json tj = {{"seeds", g.twin_seeds},   {"requests", g.twin_requests},
               {"warmup", g.twin_warmup}, {"load_erlang", calibrated.load_erlang},
               {"champion", bc},          {"challenger", bn},
               {"difference", twin->ToJson()}};
    if (best) {
      const auto bb = TwinBlocking(model, calibrated, best->rule(), g.twin_seeds, seed0,
                                   g.twin_requests, g.twin_warmup);
      best_twin_diff = ComparePaired(bb, bc);
      tj["best_heuristic"] = bb;
    }
    v.figures["twin"] = tj;
  }
  if (best) {
    v.best_heuristic = best->served->source;
    v.heuristic_beats_champion = best_replay_diff->Lower() && (!best_twin_diff || best_twin_diff->Lower());
    v.figures["best_heuristic"] = {
        {"source", v.best_heuristic},
        {"replay_vs_champion", best_replay_diff->ToJson()},
        {"twin_vs_champion", best_twin_diff ? best_twin_diff->ToJson() : Json(nullptr)},
        {"beats_champion", v.heuristic_beats_champion}};
  }
  if (judged < g.min_trace_requests) {
    v.reason = "the trace holds only " + std::to_string(judged) + " requests of " +
               twin::ToString(use_case) + " (gate.min_trace_requests " +
               std::to_string(g.min_trace_requests) + ")";
  } else if (!replay.Lower()) {
    v.reason = "replay blocking " + Pct(rn.blocking) + " vs champion " + Pct(rc.blocking) + ", " +
               Ci(replay) + ": not below zero";
  } else if (twin && !twin->Lower()) {
    v.reason = "calibrated twin blocking " + Pct(twin->a) + " vs champion " + Pct(twin->b) + ", " +
               Ci(*twin) + ": not below zero (the replay was: " + Ci(replay) + ")";
  } else {
    v.promote = true;
    v.reason = "replay blocking " + Pct(rn.blocking) + " vs " + Pct(rc.blocking) + ", " + Ci(replay) +
               (twin ? "; calibrated twin " + Pct(twin->a) + " vs " + Pct(twin->b) + ", " + Ci(*twin)
                     : std::string()) +
               "; passes the PCE's compatibility checks";
  }
  v.figures["verdict"] = v.promote ? "promote" : "refuse";
  return v;
}

}  // namespace eonops::lifecycle
