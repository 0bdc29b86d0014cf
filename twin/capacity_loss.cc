#include "twin/capacity_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace eonops::twin {

namespace {

constexpr int kMaxWords = 16;  // 1024 slots per band, as the spectrum searches

// sum_{d=1..D} min(d + off, W), in closed form.
inline int64_t SumMin(int64_t d, int64_t off, int64_t w) {
  const int64_t t = std::clamp<int64_t>(w - off, 0, d);
  return t * off + t * (t + 1) / 2 + (d - t) * w;
}

}  // namespace

CapacityLoss::CapacityLoss(const NetworkModel& model, int max_width,
                           std::vector<std::pair<double, double>> bit_rates, double reference_latency_bound_us)
    : model_(model),
      w_(std::max(1, max_width)),
      bit_rates_(std::move(bit_rates)),
      n_(model.topology().NumNodes()),
      k_(model.k()),
      fibre_words_((model.topology().NumFibres() + 63) / 64),
      reference_bound_us_(reference_latency_bound_us) {
  if (std::isnan(reference_bound_us_) || reference_bound_us_ <= 0) {
    throw std::invalid_argument("capacity loss: the reference latency bound must be positive");
  }
  const bool bounded = std::isfinite(reference_bound_us_);
  const size_t routes = static_cast<size_t>(n_) * n_ * k_;
  routes_.assign(routes, nullptr);
  fibre_sets_.assign(routes, {});
  for (int s = 0; s < n_; ++s) {
    for (int d = 0; d < n_; ++d) {
      const auto& ps = model.paths().Get(s, d);
      bool pair_done = false;
      for (size_t i = 0; i < ps.size(); ++i) {
        const size_t id = (static_cast<size_t>(s) * n_ + d) * k_ + i;
        routes_[id] = &ps[i];
        // A pair's reference route: its first candidate, or under a bound its first candidate
        // within the bound (none when every candidate is over it).
        if (s != d && !pair_done && (!bounded || model.latency().PathLatencyUs(ps[i]) <= reference_bound_us_)) {
          references_.push_back(static_cast<int>(id));
          pair_done = true;
        }
        fibre_sets_[id].assign(fibre_words_, 0);
        for (int f : ps[i].fibres) fibre_sets_[id][f >> 6] |= uint64_t{1} << (f & 63);
      }
    }
  }
  interferers_.resize(routes);
  interferers_built_.assign(routes, 0);
  cache_.resize(routes * model.NumBands());
  if (!bit_rates_.empty()) sizes_.resize(routes * model.NumBands());
}

int CapacityLoss::MaxRequestWidth(const NetworkModel& model, double max_bit_rate_gbps) {
  int w = 1;
  const int n = model.topology().NumNodes();
  Request r;
  r.bit_rate_gbps = max_bit_rate_gbps;
  for (r.src = 0; r.src < n; ++r.src) {
    for (r.dst = 0; r.dst < n; ++r.dst) {
      if (r.src == r.dst) continue;
      const int paths = static_cast<int>(model.paths().Get(r.src, r.dst).size());
      for (int p = 0; p < paths; ++p) {
        for (int b = 0; b < model.NumBands(); ++b) {
          const Candidate c = model.Evaluate(r, p, b);
          if (c.modulation >= 0) w = std::max(w, model.modulations().SlotsNeeded(max_bit_rate_gbps, c.modulation));
        }
      }
    }
  }
  return w;
}

int CapacityLoss::RouteId(const Path& path) const {
  if (path.nodes.size() < 2) return -1;
  const int s = path.nodes.front(), d = path.nodes.back();
  if (s < 0 || d < 0 || s >= n_ || d >= n_) return -1;
  const auto& ps = model_.paths().Get(s, d);
  if (ps.empty() || &path < ps.data() || &path >= ps.data() + ps.size()) return -1;
  return static_cast<int>((static_cast<size_t>(s) * n_ + d) * k_ + (&path - ps.data()));
}

std::vector<int> CapacityLoss::InterferersOf(const Path& path) const {
  std::vector<uint64_t> mine(fibre_words_, 0);
  for (int f : path.fibres) mine[f >> 6] |= uint64_t{1} << (f & 63);
  std::vector<int> out;
  for (int ref : references_) {
    for (int w = 0; w < fibre_words_; ++w) {
      if (mine[w] & fibre_sets_[ref][w]) {
        out.push_back(ref);
        break;
      }
    }
  }
  return out;
}

const std::vector<int>& CapacityLoss::Interferers(int route_id) const {
  if (!interferers_built_[route_id]) {
    interferers_[route_id] = InterferersOf(*routes_[route_id]);
    interferers_built_[route_id] = 1;
  }
  return interferers_[route_id];
}

void CapacityLoss::Build(const NetworkState& state, const Path& path, int band, RouteArrays* a) const {
  const int slots = model_.plan().band(band).num_slots;
  const int words = (slots + 63) >> 6;
  uint64_t occ[kMaxWords];
  state.spectrum().PathOccupancy(path.fibres, band, occ);
  if (a->built && std::equal(occ, occ + words, a->occupancy.begin())) return;
  a->occupancy.assign(occ, occ + words);
  a->cum.resize(slots + 1);
  a->tm.resize(slots + 1);
  // run[i]: free run starting at i, filled right to left in tm (reused as scratch).
  int32_t* run = a->tm.data();
  run[slots] = 0;
  for (int i = slots - 1; i >= 0; --i) run[i] = ((occ[i >> 6] >> (i & 63)) & 1u) ? 0 : run[i + 1] + 1;
  int32_t* cum = a->cum.data();
  cum[0] = 0;
  for (int i = 0; i < slots; ++i) cum[i + 1] = cum[i] + std::min<int32_t>(run[i], w_);
  // tm[i] = trunc(i) - cum[i]; the free run of slot i started `d` slots to its left.
  int d = 0;
  for (int i = 0; i < slots; ++i) {
    const int32_t r = run[i];
    int64_t trunc = 0;
    if (r > 0) {
      trunc = SumMin(d, r, w_) - SumMin(d, 0, w_);
      ++d;
    } else {
      d = 0;
    }
    a->tm[i] = static_cast<int32_t>(trunc) - cum[i];
  }
  a->tm[slots] = -cum[slots];
  if (!bit_rates_.empty()) {
    // Placement counts per size, from the runs recomputed here (tm was overwritten).
    std::vector<int16_t> run(slots + 1, 0);
    for (int i = slots - 1; i >= 0; --i) run[i] = ((occ[i >> 6] >> (i & 63)) & 1u) ? 0 : run[i + 1] + 1;
    a->count.assign(static_cast<size_t>(w_) * (slots + 1), 0);
    for (int w = 1; w <= w_; ++w) {
      int16_t* c = &a->count[static_cast<size_t>(w - 1) * (slots + 1)];
      for (int i = 0; i < slots; ++i) c[i + 1] = c[i] + (run[i] >= w);
    }
  }
  a->built = true;
}

const CapacityLoss::RouteSizes& CapacityLoss::SizesOf(int route_id, const Path& path, int band) const {
  RouteSizes* rs = route_id >= 0 ? &sizes_[static_cast<size_t>(route_id) * model_.NumBands() + band] : &scratch_sizes_;
  if (route_id >= 0 && !rs->p.empty()) return *rs;
  rs->p.assign(w_ + 1, 0.0f);
  rs->largest = 0;
  Request r;
  r.src = path.nodes.front();
  r.dst = path.nodes.back();
  for (const auto& [rate, prob] : bit_rates_) {
    r.bit_rate_gbps = rate;
    const Candidate c = route_id >= 0 ? model_.Evaluate(r, route_id % k_, band) : model_.EvaluatePath(r, path, band);
    if (c.modulation < 0 || c.width < 1 || c.width > w_) continue;
    rs->p[c.width] += static_cast<float>(prob);
    rs->largest = std::max(rs->largest, c.width);
  }
  return *rs;
}

void CapacityLoss::SizeAwareLoss(const NetworkState& state, const Path& path, int band, int slot, int width,
                                 double* expected, int* critical) const {
  *expected = 0;
  *critical = 0;
  const int slots = model_.plan().band(band).num_slots;
  if (bit_rates_.empty() || slot < 0 || width <= 0 || slot + width > slots) return;
  std::lock_guard<std::mutex> lock(mu_);
  const int id = RouteId(path);
  std::vector<int> explicit_interferers;
  const std::vector<int>& qs = id >= 0 ? Interferers(id) : (explicit_interferers = InterferersOf(path));
  const int end = slot + width;
  auto add = [&](int route_id, const Path& route) {
    const RouteArrays& a = Arrays(state, route_id, route, band);
    const RouteSizes& rs = SizesOf(route_id, route, band);
    for (int w = 1; w <= w_; ++w) {
      if (rs.p[w] == 0.0f && w != rs.largest) continue;
      const int16_t* c = &a.count[static_cast<size_t>(w - 1) * (slots + 1)];
      const int lost = c[end] - c[std::max(0, slot - w + 1)];
      *expected += rs.p[w] * lost;
      if (w == rs.largest && lost > 0 && lost == c[slots]) ++*critical;
    }
  };
  bool self_counted = false;
  for (int q : qs) {
    const Path& route = *routes_[q];
    if (id >= 0 ? q == id : route.nodes == path.nodes) self_counted = true;
    add(q, route);
  }
  if (!self_counted) add(id, path);
}

double CapacityLoss::ExpectedLoss(const NetworkState& state, const Path& path, int band, int slot, int width) const {
  double e;
  int c;
  SizeAwareLoss(state, path, band, slot, width, &e, &c);
  return e;
}

int CapacityLoss::CriticalRoutes(const NetworkState& state, const Path& path, int band, int slot, int width) const {
  double e;
  int c;
  SizeAwareLoss(state, path, band, slot, width, &e, &c);
  return c;
}

CapacityLoss::Scope::Scope(const CapacityLoss& loss, const NetworkState& state) : loss_(loss) {
  std::lock_guard<std::mutex> lock(loss_.mu_);
  if (loss_.scope_state_ != nullptr) return;  // one scope at a time; a nested or second one is a no-op
  loss_.scope_thread_ = std::this_thread::get_id();
  loss_.scope_state_ = &state;
  ++loss_.scope_epoch_;
  opened_ = true;
}

CapacityLoss::Scope::~Scope() {
  if (!opened_) return;
  std::lock_guard<std::mutex> lock(loss_.mu_);
  loss_.scope_state_ = nullptr;
}

const CapacityLoss::RouteArrays& CapacityLoss::Arrays(const NetworkState& state, int route_id, const Path& path,
                                                      int band) const {
  RouteArrays* a = route_id >= 0 ? &cache_[static_cast<size_t>(route_id) * model_.NumBands() + band] : &scratch_;
  if (route_id < 0) a->built = false;
  const bool scoped = scope_state_ == &state && scope_thread_ == std::this_thread::get_id();
  if (scoped && a->built && a->checked_epoch == scope_epoch_) return *a;  // already checked this decision
  Build(state, path, band, a);
  a->checked_epoch = scoped ? scope_epoch_ : 0;
  return *a;
}

void CapacityLoss::LossAll(const NetworkState& state, const Path& path, int band, int width, int64_t* loss) const {
  const int slots = model_.plan().band(band).num_slots;
  const int last = slots - width;  // highest start slot
  if (last < 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  // 32-bit sums vectorise twice as wide; a loss is at most routes x S x W, far below 2^31.
  accumulator_.assign(last + 1, 0);
  int32_t* acc = accumulator_.data();
  const int id = RouteId(path);
  std::vector<int> explicit_interferers;
  const std::vector<int>& qs = id >= 0 ? Interferers(id) : (explicit_interferers = InterferersOf(path));
  bool self_counted = false;
  auto add = [&](const RouteArrays& a) {
    const int32_t* __restrict tm = a.tm.data();
    const int32_t* __restrict cum = a.cum.data() + width;
    for (int s = 0; s <= last; ++s) acc[s] += tm[s] + cum[s];
  };
  for (int q : qs) {
    const Path& route = *routes_[q];
    if (id >= 0 ? q == id : route.nodes == path.nodes) self_counted = true;
    add(Arrays(state, q, route, band));
  }
  if (!self_counted) add(Arrays(state, id, path, band));
  for (int s = 0; s <= last; ++s) loss[s] = acc[s];
}

int64_t CapacityLoss::Loss(const NetworkState& state, const Path& path, int band, int slot, int width) const {
  const int slots = model_.plan().band(band).num_slots;
  if (slot < 0 || width <= 0 || slot + width > slots) return std::numeric_limits<int64_t>::max();
  std::lock_guard<std::mutex> lock(mu_);
  const int id = RouteId(path);
  std::vector<int> explicit_interferers;
  const std::vector<int>& qs = id >= 0 ? Interferers(id) : (explicit_interferers = InterferersOf(path));
  int64_t loss = 0;
  bool self_counted = false;
  for (int q : qs) {
    const Path& route = *routes_[q];
    if (id >= 0 ? q == id : route.nodes == path.nodes) self_counted = true;
    const RouteArrays& a = Arrays(state, q, route, band);
    loss += a.tm[slot] + a.cum[slot + width];
  }
  if (!self_counted) {
    const RouteArrays& a = Arrays(state, id, path, band);
    loss += a.tm[slot] + a.cum[slot + width];
  }
  return loss;
}

}  // namespace eonops::twin
