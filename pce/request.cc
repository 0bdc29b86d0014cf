#include "pce/request.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace eonops::pce {

namespace {

nlohmann::json Num(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}
double NumOr(const nlohmann::json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}
std::vector<int> Ints(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? it->get<std::vector<int>>() : std::vector<int>{};
}

}  // namespace

twin::BlockCause ParseBlockCause(const std::string& s) {
  for (auto c : {twin::BlockCause::kNone, twin::BlockCause::kNoSpectrum, twin::BlockCause::kQot,
                 twin::BlockCause::kLatency, twin::BlockCause::kNoPath,
                 twin::BlockCause::kQotImpact}) {
    if (s == twin::ToString(c)) return c;
  }
  throw std::invalid_argument("unknown block cause '" + s + "'");
}

std::string PathRequest::Check(const twin::NetworkModel& m) const {
  const int n = m.topology().NumNodes(), nf = m.topology().NumFibres();
  if (src < 0 || src >= n) return "source node " + std::to_string(src) + " out of range";
  if (dst < 0 || dst >= n) return "destination node " + std::to_string(dst) + " out of range";
  if (src == dst)
    return "source and destination are the same node (" + m.topology().node(src).name + ")";
  if (IsSpectrumRequest()) {
    if (bit_rate_gbps != 0) return "a request asks for a bit rate or for spectrum, not both";
    if (!std::isfinite(spectrum_width_hz)) return "spectrum width must be a finite number";
    const twin::BandPlan& plan = m.plan();
    double widest_hz = 0;
    for (const auto& b : plan.bands())
      widest_hz = std::max(widest_hz, b.num_slots * plan.slot_width_hz());
    if (spectrum_width_hz > widest_hz + 1.0) {
      return "spectrum width " + std::to_string(spectrum_width_hz / 1e9) +
             " GHz is wider than any band (" + std::to_string(widest_hz / 1e9) + " GHz)";
    }
  } else {
    if (!(bit_rate_gbps > 0) || !std::isfinite(bit_rate_gbps))
      return "capacity must be a positive number of Gb/s or of GHz";
    if (bit_rate_gbps > 1e5)
      return "capacity " + std::to_string(bit_rate_gbps) + " Gb/s exceeds any line rate";
  }
  if (!(latency_bound_us > 0)) return "latency bound must be positive";
  for (const auto* list : {&include_links, &exclude_links}) {
    for (int f : *list) {
      if (f < 0 || f >= nf) return "link " + std::to_string(f) + " out of range";
    }
  }
  for (const auto* list : {&include_nodes, &exclude_nodes}) {
    for (int v : *list) {
      if (v < 0 || v >= n) return "node " + std::to_string(v) + " out of range";
    }
  }
  for (int v : exclude_nodes) {
    if (v == src || v == dst)
      return "an end-point node (" + m.topology().node(v).name + ") cannot be excluded";
  }
  std::set<int> excl(exclude_links.begin(), exclude_links.end());
  for (int f : include_links) {
    if (excl.count(f)) return "link " + std::to_string(f) + " is both included and excluded";
  }
  std::set<int> excl_nodes(exclude_nodes.begin(), exclude_nodes.end());
  for (int v : include_nodes) {
    if (excl_nodes.count(v))
      return "node " + m.topology().node(v).name + " is both included and excluded";
  }
  if (spectrum) {
    if (spectrum->band < 0 || spectrum->band >= m.NumBands())
      return "requested spectrum is in no band of the plan";
    const int s = m.plan().band(spectrum->band).num_slots;
    if (spectrum->width < 1 || spectrum->slot < 0 || spectrum->slot + spectrum->width > s) {
      return "requested spectrum does not fit in band " + m.plan().band(spectrum->band).name;
    }
    const double named_hz = spectrum->width * m.plan().slot_width_hz();
    if (IsSpectrumRequest() && named_hz + 1.0 < spectrum_width_hz) {
      return "the capacity asks for " + std::to_string(spectrum_width_hz / 1e9) +
             " GHz but the media channel named is " + std::to_string(named_hz / 1e9) + " GHz wide";
    }
  }
  return "";
}

PathRequest PathRequest::Reversed(const twin::Topology& t) const {
  PathRequest r = *this;
  std::swap(r.src, r.dst);
  auto reverse_links = [&](const std::vector<int>& links) {
    std::vector<int> out;
    for (int f : links) {
      const int back = t.FibreBetween(t.fibre(f).dst, t.fibre(f).src);
      if (back >= 0) out.push_back(back);
    }
    return out;
  };
  r.include_links = reverse_links(include_links);
  r.exclude_links = reverse_links(exclude_links);
  return r;
}

twin::Request PathRequest::ToTwin(int64_t id, double slot_width_hz) const {
  twin::Request r;
  r.id = id;
  r.src = src;
  r.dst = dst;
  r.bit_rate_gbps = bit_rate_gbps;
  r.latency_bound_us = latency_bound_us;
  if (IsSpectrumRequest())
    r.media_channel_slots = static_cast<int>(std::ceil(spectrum_width_hz / slot_width_hz - 1e-9));
  return r;
}

std::vector<const PathDecision*> Service::Directions() const {
  std::vector<const PathDecision*> out = {&decision};
  if (reverse) out.push_back(&*reverse);
  return out;
}

nlohmann::json PathRequest::ToJson() const {
  nlohmann::json j = {{"src", src},
                      {"dst", dst},
                      {"bit_rate_gbps", bit_rate_gbps},
                      {"spectrum_width_hz", spectrum_width_hz},
                      {"capacity_defaulted", capacity_defaulted},
                      {"bidirectional", bidirectional},
                      {"latency_bound_us", Num(latency_bound_us)},
                      {"include_links", include_links},
                      {"exclude_links", exclude_links},
                      {"include_nodes", include_nodes},
                      {"exclude_nodes", exclude_nodes}};
  j["use_case"] = use_case ? nlohmann::json(twin::ToString(*use_case)) : nlohmann::json(nullptr);
  if (spectrum) {
    j["spectrum"] = {
        {"band", spectrum->band}, {"slot", spectrum->slot}, {"width", spectrum->width}};
  }
  return j;
}

PathRequest PathRequest::FromJson(const nlohmann::json& j) {
  PathRequest r;
  r.src = j.at("src").get<int>();
  r.dst = j.at("dst").get<int>();
  r.bit_rate_gbps = j.at("bit_rate_gbps").get<double>();
  r.spectrum_width_hz = NumOr(j, "spectrum_width_hz", 0.0);  // absent in schema-1 databases
  r.capacity_defaulted = j.value("capacity_defaulted", false);
  r.bidirectional = j.value("bidirectional", false);
  r.latency_bound_us = NumOr(j, "latency_bound_us", std::numeric_limits<double>::infinity());
  r.include_links = Ints(j, "include_links");
  r.exclude_links = Ints(j, "exclude_links");
  r.include_nodes = Ints(j, "include_nodes");
  r.exclude_nodes = Ints(j, "exclude_nodes");
  if (j.contains("use_case") && j["use_case"].is_string())
    r.use_case = twin::ParseUseCase(j["use_case"].get<std::string>());
  if (j.contains("spectrum") && j["spectrum"].is_object()) {
    const auto& s = j["spectrum"];
    r.spectrum =
        MediaChannel{s.at("band").get<int>(), s.at("slot").get<int>(), s.at("width").get<int>()};
  }
  return r;
}

nlohmann::json PathDecision::ToJson() const {
  nlohmann::json j = {{"feasible", feasible},
                      {"cause", twin::ToString(cause)},
                      {"reason", reason},
                      {"use_case", twin::ToString(use_case)},
                      {"decided_by", decided_by},
                      {"fell_back", fell_back},
                      {"fallback_reason", fallback_reason},
                      {"compute_us", compute_us},
                      {"bit_rate_gbps", bit_rate_gbps},
                      {"spectrum_width_hz", spectrum_width_hz},
                      {"capacity_defaulted", capacity_defaulted}};
  if (policy) {
    j["policy"] = {
        {"model", policy->model}, {"version", policy->version}, {"run_id", policy->run_id}};
  } else {
    j["policy"] = nullptr;
  }
  if (feasible) {
    j["nodes"] = nodes;
    j["fibres"] = fibres;
    j["length_km"] = length_km;
    j["band"] = band;
    j["band_name"] = band_name;
    j["slot"] = slot;
    j["width"] = width;
    j["modulation"] = modulation;
    j["modulation_name"] = modulation_name;
    j["grid"] = {{"n", channel.n},
                 {"m", channel.m},
                 {"centre_hz", channel.centre_hz},
                 {"lower_hz", channel.lower_hz},
                 {"upper_hz", channel.upper_hz}};
    j["gsnr_db"] = Num(gsnr_db);
    j["worst_case_gsnr_db"] = Num(worst_case_gsnr_db);
    j["threshold_db"] = Num(threshold_db);
    j["required_margin_db"] = required_margin_db;
    j["latency_us"] = latency_us;
    j["incremental_power_w"] = incremental_power_w;
  }
  return j;
}

PathDecision PathDecision::FromJson(const nlohmann::json& j) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  PathDecision d;
  d.feasible = j.at("feasible").get<bool>();
  d.cause = ParseBlockCause(j.at("cause").get<std::string>());
  d.reason = j.value("reason", "");
  d.use_case = twin::ParseUseCase(j.at("use_case").get<std::string>());
  d.decided_by = j.value("decided_by", "");
  d.fell_back = j.value("fell_back", false);
  d.fallback_reason = j.value("fallback_reason", "");
  d.compute_us = NumOr(j, "compute_us", 0.0);
  d.bit_rate_gbps = NumOr(j, "bit_rate_gbps", 0.0);
  d.spectrum_width_hz = NumOr(j, "spectrum_width_hz", 0.0);
  d.capacity_defaulted = j.value("capacity_defaulted", false);
  if (j.contains("policy") && j["policy"].is_object()) {
    const auto& p = j["policy"];
    d.policy = PolicyRef{p.at("model").get<std::string>(), p.at("version").get<int64_t>(),
                         p.value("run_id", "")};
  }
  if (d.feasible) {
    d.nodes = Ints(j, "nodes");
    d.fibres = Ints(j, "fibres");
    d.length_km = NumOr(j, "length_km", 0.0);
    d.band = j.at("band").get<int>();
    d.band_name = j.value("band_name", "");
    d.slot = j.at("slot").get<int>();
    d.width = j.at("width").get<int>();
    d.modulation = j.at("modulation").get<int>();
    d.modulation_name = j.value("modulation_name", "");
    const auto& g = j.at("grid");
    d.channel.n = g.at("n").get<int>();
    d.channel.m = g.at("m").get<int>();
    d.channel.centre_hz = g.at("centre_hz").get<double>();
    d.channel.lower_hz = g.at("lower_hz").get<double>();
    d.channel.upper_hz = g.at("upper_hz").get<double>();
    d.gsnr_db = NumOr(j, "gsnr_db", nan);
    d.worst_case_gsnr_db = NumOr(j, "worst_case_gsnr_db", nan);
    d.threshold_db = NumOr(j, "threshold_db", nan);
    d.required_margin_db = NumOr(j, "required_margin_db", 0.0);
    d.latency_us = NumOr(j, "latency_us", 0.0);
    d.incremental_power_w = NumOr(j, "incremental_power_w", 0.0);
  }
  return d;
}

}  // namespace eonops::pce
