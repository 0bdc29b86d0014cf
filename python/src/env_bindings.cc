#include "env_bindings.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "twin/envs.h"
#include "twin/heuristics.h"
#include "twin/vec_env.h"

namespace eonops::python {

namespace {

namespace py = pybind11;
using twin::ActionChoice;
using twin::BlockCause;

// An experiment's twin as Python asks for it: the config sections it was given (what a policy
// manifest records as env_config), the parsed config, and the shared network model.
struct Twin {
  nlohmann::json sections = nlohmann::json::object();
  twin::EnvConfig config;
  std::shared_ptr<const twin::NetworkModel> model;
};

Twin BuildTwin(py::handle config, const std::string& origin) {
  Twin t;
  const nlohmann::json j = ToJson(config);
  if (!j.is_object()) throw py::value_error(origin + ": a config must be a JSON object");
  for (const char* section : {"network", "traffic", "measurement", "env"}) {
    if (j.contains(section)) t.sections[section] = j[section];
  }
  t.config = LoadEnvConfig(j, origin);
  LoadScenario(j, origin);  // checks the measurement section too: a config is never half-read
  t.model = AsValueError([&] { return std::make_shared<const twin::NetworkModel>(t.config.network); });
  return t;
}

// How an episode ended, in Gymnasium's terms: truncated when it ended on its step count while
// the network goes on (bootstrap from the final observation), terminated when it ended by itself.
struct EpisodeEnd {
  bool terminated = false;
  bool truncated = false;
};
EpisodeEnd EndOf(const twin::StepResult& r) { return {r.terminated(), r.done && r.truncated}; }

py::object NumberOrNone(double x) { return std::isfinite(x) ? py::object(py::float_(x)) : py::none(); }

py::dict RequestDict(const twin::Request& r) {
  py::dict d;
  d["id"] = r.id;
  d["src"] = r.src;
  d["dst"] = r.dst;
  d["bit_rate_gbps"] = r.bit_rate_gbps;
  d["latency_bound_us"] = NumberOrNone(r.latency_bound_us);
  d["arrival_time"] = r.arrival_time;
  d["holding_time"] = r.holding_time;
  return d;
}

double GsnrMarginDb(const twin::NetworkModel& m, const twin::Candidate& c) {
  if (c.modulation < 0) return std::numeric_limits<double>::quiet_NaN();
  return c.gsnr_db - m.modulations().format(c.modulation).gsnr_threshold_db;
}

// The lightpath an accepted step lit, as the PCE reports one (tapi "eonops-pce:lightpath").
py::dict DecisionDict(const twin::NetworkModel& m, const ActionChoice& choice, double incremental_power_w) {
  const twin::Candidate& c = choice.candidate;
  py::dict d;
  d["path"] = c.path ? py::cast(c.path->nodes) : py::list();
  d["path_index"] = c.path_index;
  d["length_km"] = c.path ? c.path->length_km : 0.0;
  d["hops"] = c.path ? c.path->hops : 0;
  d["band"] = m.plan().band(c.band).name;
  d["band_index"] = c.band;
  d["slot"] = choice.slot;
  d["slots"] = c.width;
  d["format"] = m.modulations().format(c.modulation).name;
  d["modulation_index"] = c.modulation;
  d["gsnr_db"] = NumberOrNone(c.gsnr_db);
  d["gsnr_margin_db"] = NumberOrNone(GsnrMarginDb(m, c));
  d["latency_us"] = c.latency_us;
  d["incremental_power_w"] = incremental_power_w;
  return d;
}

// The action that commits what heuristic `h` decides for the current request: the env's expert
// action (RsaEnv::ExpertAction) when the action space holds the heuristic's exact choice; the
// reject action when the heuristic blocks (stepping it blocks); otherwise (a slot the J offered
// blocks do not start at, e.g. best or last fit without block_rules) the offered block of the
// same path and band that starts closest before that slot, else its first offered block.
int HeuristicAction(const twin::RsaEnv& env, const twin::Heuristic& h, std::vector<float>* obs,
                    std::vector<uint8_t>* mask, std::vector<ActionChoice>* actions) {
  const int expert = env.ExpertAction(h);
  if (expert >= 0) return expert;
  const twin::ObservationLayout& layout = env.layout();
  const twin::Request& request = env.engine().current();
  const twin::Decision d = h.Decide(request, env.engine().state());
  if (!d.accepted) return layout.RejectAction();
  obs->resize(layout.observation_size);
  mask->resize(layout.num_actions);
  twin::BuildObservation(layout, env.options(), env.engine().state(), request, obs->data(), mask->data(), actions);
  int before = -1, first = -1;
  for (int a = 0; a < layout.RejectAction(); ++a) {
    const ActionChoice& c = (*actions)[a];
    if (!(*mask)[a] || c.candidate.path != d.candidate.path || c.candidate.band != d.candidate.band) continue;
    if (first < 0) first = a;
    if (c.slot < d.slot && (before < 0 || c.slot > (*actions)[before].slot)) before = a;
  }
  if (before >= 0) return before;
  if (first >= 0) return first;
  return layout.RejectAction();
}

// Heuristics by name, made once per environment wrapper (used from one thread at a time), set up
// for the environment's traffic.
class HeuristicCache {
 public:
  explicit HeuristicCache(const twin::TrafficConfig& traffic) : options_(twin::HeuristicOptions::ForTraffic(traffic)) {}

  const twin::Heuristic& Get(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) {
      auto h = AsValueError([&] { return twin::MakeHeuristic(name, options_); });
      it = cache_.emplace(name, std::move(h)).first;
    }
    return *it->second;
  }

 private:
  twin::HeuristicOptions options_;
  std::map<std::string, std::unique_ptr<twin::Heuristic>> cache_;
};

py::dict SpecDict(const twin::EnvSpec& s) {
  py::dict d;
  d["name"] = s.name;
  d["observation_size"] = s.observation_size;
  d["num_actions"] = s.num_actions;
  py::list layout;
  for (const auto& f : s.observation_layout) {
    py::dict field;
    field["name"] = f.name;
    field["offset"] = f.offset;
    field["size"] = f.size;
    field["description"] = f.description;
    layout.append(field);
  }
  d["observation_layout"] = layout;
  d["action_description"] = s.action_description;
  d["reward_description"] = s.reward_description;
  d["config_hash"] = s.config_hash;
  return d;
}

py::list BandNames(const twin::NetworkModel& m) {
  py::list out;
  for (const auto& b : m.plan().bands()) out.append(b.name);
  return out;
}

py::list ModulationNames(const twin::NetworkModel& m) {
  py::list out;
  for (int i = 0; i < m.modulations().NumFormats(); ++i) out.append(m.modulations().format(i).name);
  return out;
}

// Properties both wrappers share.
template <typename T>
void BindTwinProperties(py::class_<T>& c) {
  c.def_property_readonly("observation_size", [](const T& e) { return e.spec().observation_size; })
      .def_property_readonly("num_actions", [](const T& e) { return e.spec().num_actions; })
      .def_property_readonly("spec", [](const T& e) { return SpecDict(e.spec()); },
                             "observation layout, action and reward descriptions, config hash")
      .def_property_readonly("config", [](const T& e) { return ToPython(e.twin().sections); },
                             "the config sections the environment was built from (network, traffic, "
                             "measurement, env), as a policy manifest records them")
      .def_property_readonly("canonical_config", [](const T& e) { return ToPython(e.twin().config.ToJson()); },
                             "every network/traffic/env field with its value, defaults included")
      .def_property_readonly("band_names", [](const T& e) { return BandNames(*e.twin().model); })
      .def_property_readonly("modulation_names", [](const T& e) { return ModulationNames(*e.twin().model); })
      .def_property_readonly("num_nodes", [](const T& e) { return e.twin().model->topology().NumNodes(); })
      .def_property_readonly("topology", [](const T& e) { return e.twin().model->topology().name(); })
      .def_property_readonly("k", [](const T& e) { return e.twin().model->k(); })
      .def_property_readonly("num_bands", [](const T& e) { return e.twin().model->NumBands(); })
      .def_property_readonly("j_blocks", [](const T& e) { return e.twin().config.env.j_blocks; })
      .def_property_readonly("episode_length", [](const T& e) { return e.twin().config.env.episode_length; });
}

// ----------------------------------------------------------------------------------------------
// One environment.

class PyEnv {
 public:
  PyEnv(py::handle config, const std::string& origin)
      : twin_(BuildTwin(config, origin)), heuristics_(twin_.config.traffic) {
    env_ = AsValueError([&] { return twin::MakeEnv(twin_.model, twin_.config); });
    obs_.resize(spec().observation_size);
    mask_.resize(spec().num_actions);
  }

  const twin::EnvSpec& spec() const { return env_->Spec(); }
  const Twin& twin() const { return twin_; }

  py::tuple Reset(uint64_t seed) {
    env_->Reset(seed, obs_.data(), mask_.data());
    started_ = true;
    over_ = false;
    episode_return_ = 0.0;
    episode_blocked_ = 0;
    episode_length_ = 0;
    py::dict info;
    info["seed"] = seed;
    info["request"] = RequestDict(env_->engine().current());
    return py::make_tuple(Observation(), info);
  }

  py::tuple Step(py::handle action_obj) {
    if (!started_) throw std::runtime_error("step() before reset(): call reset(seed=...) first");
    if (over_) throw std::runtime_error("step() after the episode ended: call reset() first");
    const int action = CheckAction(action_obj);
    const twin::Request request = env_->engine().current();
    const twin::StepResult r = env_->Step(action, obs_.data(), mask_.data());
    const EpisodeEnd end = EndOf(r);
    over_ = r.done;
    episode_return_ += r.reward;
    episode_blocked_ += r.accepted ? 0 : 1;
    ++episode_length_;
    py::dict info;
    info["accepted"] = r.accepted;
    info["block_cause"] = block_causes_[BlockCode(r.accepted, env_->last_block_cause())];
    info["request"] = RequestDict(request);
    info["decision"] = r.accepted ? py::object(DecisionDict(*twin_.model, env_->last_choice(),
                                                            env_->last_incremental_power_w()))
                                  : py::object(py::none());
    info["episode_step"] = episode_length_;
    if (r.done) {
      py::dict episode;
      episode["r"] = episode_return_;
      episode["l"] = episode_length_;
      episode["blocking"] = static_cast<double>(episode_blocked_) / episode_length_;
      info["episode"] = episode;
    }
    return py::make_tuple(Observation(), static_cast<double>(r.reward), end.terminated, end.truncated, info);
  }

  py::array_t<bool> ActionMask() const {
    if (!started_) throw std::runtime_error("action_masks() before reset(): call reset(seed=...) first");
    py::array_t<bool> out(static_cast<py::ssize_t>(mask_.size()));
    bool* dst = out.mutable_data();
    for (size_t a = 0; a < mask_.size(); ++a) dst[a] = mask_[a] != 0;
    return out;
  }

  int HeuristicActionOf(const std::string& name) {
    if (!started_) throw std::runtime_error("heuristic_action() before reset(): call reset(seed=...) first");
    return HeuristicAction(*env_, heuristics_.Get(name), &scratch_obs_, &scratch_mask_, &scratch_actions_);
  }

  py::dict CurrentRequest() const {
    if (!started_) throw std::runtime_error("no request before reset()");
    return RequestDict(env_->engine().current());
  }

  py::dict NetworkStatus() const {
    const twin::NetworkState& s = env_->engine().state();
    py::dict d;
    d["active_lightpaths"] = s.ActiveLightpaths();
    d["power_w"] = s.PowerW();
    d["carried_gbps"] = s.CarriedGbps();
    d["time"] = env_->engine().now();
    py::list util;
    const twin::SpectrumState& sp = s.spectrum();
    for (int b = 0; b < sp.NumBands(); ++b) {
      util.append(static_cast<double>(sp.TotalUsedSlots(b)) / (static_cast<double>(sp.NumSlots(b)) * sp.NumFibres()));
    }
    d["band_utilisation"] = util;
    return d;
  }

 private:
  py::array_t<float> Observation() const {
    py::array_t<float> out(static_cast<py::ssize_t>(obs_.size()));
    std::memcpy(out.mutable_data(), obs_.data(), obs_.size() * sizeof(float));
    return out;
  }

  int CheckAction(py::handle a) const {
    // Python ints and NumPy integer scalars/0-d arrays; a float or a bool is a caller's bug.
    if (py::isinstance<py::bool_>(a) || !(py::isinstance<py::int_>(a) || py::hasattr(a, "__index__"))) {
      throw py::type_error("action must be an integer in 0.." + std::to_string(spec().num_actions - 1) + ", got " +
                           std::string(py::str(py::type::of(a).attr("__name__"))));
    }
    const long long v = py::int_(a.attr("__index__")());
    if (v < 0 || v >= spec().num_actions) {
      throw py::value_error("action " + std::to_string(v) + " is outside the action space 0.." +
                            std::to_string(spec().num_actions - 1));
    }
    return static_cast<int>(v);
  }

  Twin twin_;
  std::unique_ptr<twin::RsaEnv> env_;
  std::vector<float> obs_;
  std::vector<uint8_t> mask_;
  bool started_ = false, over_ = false;
  double episode_return_ = 0.0;
  int episode_blocked_ = 0, episode_length_ = 0;
  HeuristicCache heuristics_;
  std::vector<float> scratch_obs_;
  std::vector<uint8_t> scratch_mask_;
  std::vector<ActionChoice> scratch_actions_;
  py::tuple block_causes_ = BlockCauseNames();
};

// ----------------------------------------------------------------------------------------------
// A batch of environments.

// What each environment's last step did, one entry per environment; each environment writes
// only its own entries, from whichever VecEnv worker thread steps it.
struct BatchInfo {
  explicit BatchInfo(int n)
      : terminated(n),
        cause(n),
        path_index(n, -1),
        band(n, -1),
        slot(n, -1),
        slots(n, 0),
        modulation(n, -1),
        src(n),
        dst(n),
        bit_rate_gbps(n),
        gsnr_margin_db(n, std::numeric_limits<double>::quiet_NaN()),
        latency_us(n, std::numeric_limits<double>::quiet_NaN()),
        incremental_power_w(n),
        episode_flag(n),
        episode_return(n),
        episode_length(n),
        episode_blocking(n) {}

  std::vector<uint8_t> terminated;
  std::vector<int8_t> cause;
  std::vector<int32_t> path_index, band, slot, slots, modulation, src, dst;
  std::vector<double> bit_rate_gbps, gsnr_margin_db, latency_us, incremental_power_w;
  std::vector<uint8_t> episode_flag;
  std::vector<double> episode_return;
  std::vector<int32_t> episode_length;
  std::vector<double> episode_blocking;
};

// One environment of the batch: a twin::RsaEnv that records its decisions and episode statistics
// into BatchInfo (twin::VecEnv itself keeps the final observations and the truncation flags).
class RecordingEnv final : public twin::Env {
 public:
  RecordingEnv(std::unique_ptr<twin::RsaEnv> env, BatchInfo* info, int index)
      : env_(std::move(env)), info_(info), i_(index) {}

  const twin::EnvSpec& Spec() const override { return env_->Spec(); }

  void Reset(uint64_t seed, float* observation, uint8_t* mask) override {
    env_->Reset(seed, observation, mask);
    return_ = 0.0;
    length_ = 0;
    blocked_ = 0;
  }

  twin::StepResult Step(int action, float* observation, uint8_t* mask) override {
    const twin::Request& before = env_->engine().current();
    info_->src[i_] = before.src;
    info_->dst[i_] = before.dst;
    info_->bit_rate_gbps[i_] = before.bit_rate_gbps;
    const twin::StepResult r = env_->Step(action, observation, mask);
    info_->terminated[i_] = EndOf(r).terminated;
    if (r.accepted) {
      const ActionChoice& c = env_->last_choice();
      info_->cause[i_] = static_cast<int8_t>(BlockCode(true, BlockCause::kNone));
      info_->path_index[i_] = c.candidate.path_index;
      info_->band[i_] = c.candidate.band;
      info_->slot[i_] = c.slot;
      info_->slots[i_] = c.candidate.width;
      info_->modulation[i_] = c.candidate.modulation;
      info_->gsnr_margin_db[i_] = GsnrMarginDb(env_->engine().model(), c.candidate);
      info_->latency_us[i_] = c.candidate.latency_us;
      info_->incremental_power_w[i_] = env_->last_incremental_power_w();
    } else {
      info_->cause[i_] = static_cast<int8_t>(BlockCode(false, env_->last_block_cause()));
      info_->path_index[i_] = info_->band[i_] = info_->slot[i_] = info_->modulation[i_] = -1;
      info_->slots[i_] = 0;
      info_->gsnr_margin_db[i_] = info_->latency_us[i_] = std::numeric_limits<double>::quiet_NaN();
      info_->incremental_power_w[i_] = 0.0;
    }
    return_ += r.reward;
    ++length_;
    blocked_ += r.accepted ? 0 : 1;
    info_->episode_flag[i_] = r.done;
    if (r.done) {
      info_->episode_return[i_] = return_;
      info_->episode_length[i_] = length_;
      info_->episode_blocking[i_] = static_cast<double>(blocked_) / length_;
    }
    return r;
  }

  const twin::RsaEnv& inner() const { return *env_; }

 private:
  std::unique_ptr<twin::RsaEnv> env_;
  BatchInfo* info_;
  size_t i_;
  double return_ = 0.0;
  int length_ = 0, blocked_ = 0;
};

// The environments and every buffer the numpy views point into. Shared by the wrapper and the
// views (through a capsule), so a view that outlives its VecEnv still reads valid memory, and no
// reference cycle keeps a dropped VecEnv (and its worker threads) alive.
struct Batch {
  std::unique_ptr<BatchInfo> info;
  std::vector<RecordingEnv*> envs;  // owned by vec
  std::unique_ptr<twin::VecEnv> vec;
};

class PyVecEnv {
 public:
  PyVecEnv(py::handle config, const std::string& origin, int num_envs, int threads, bool copy)
      : twin_(BuildTwin(config, origin)), copy_(copy), batch_(std::make_shared<Batch>()),
        heuristics_(twin_.config.traffic) {
    if (num_envs < 1 || num_envs > 1 << 20) throw py::value_error("num_envs must be in 1..1048576, got " + std::to_string(num_envs));
    if (threads < 1 || threads > 256) throw py::value_error("threads must be in 1..256, got " + std::to_string(threads));
    Batch* b = batch_.get();
    b->info = std::make_unique<BatchInfo>(num_envs);
    b->envs.reserve(num_envs);
    auto make = twin::MakeEnvFactory(twin_.model, twin_.config);
    twin::VecEnv::Factory factory = [b, make]() -> std::unique_ptr<twin::Env> {
      std::unique_ptr<twin::Env> base = make();
      std::unique_ptr<twin::RsaEnv> env(static_cast<twin::RsaEnv*>(base.release()));
      auto rec = std::make_unique<RecordingEnv>(std::move(env), b->info.get(), static_cast<int>(b->envs.size()));
      b->envs.push_back(rec.get());
      return rec;
    };
    b->vec = AsValueError([&] { return std::make_unique<twin::VecEnv>(factory, num_envs, 0, threads); });
    MakeViews();
  }

  const twin::EnvSpec& spec() const { return batch_->vec->Spec(); }
  const Twin& twin() const { return twin_; }
  int num_envs() const { return batch_->vec->NumEnvs(); }

  py::tuple Reset(uint64_t seed) {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock) throw std::runtime_error("VecEnv.reset() while another thread steps it");
    {
      py::gil_scoped_release release;
      batch_->vec->Reset(seed);
    }
    started_ = true;
    py::dict infos;
    infos["seed"] = seed;
    infos["action_mask"] = Out(views_.masks);
    return py::make_tuple(Out(views_.obs), infos);
  }

  py::tuple Step(py::handle actions_obj) {
    if (!started_) throw std::runtime_error("step() before reset(): call reset(seed=...) first");
    const int n = num_envs(), a = spec().num_actions;
    // Integer arrays only (any integer dtype, converted to int32 without a copy when it already
    // is); a float array would be silently truncated by a cast.
    py::array arr = py::array::ensure(actions_obj);
    if (!arr) throw py::type_error("actions must be an integer array of shape (" + std::to_string(n) + ",)");
    const char kind = arr.dtype().kind();
    if (kind != 'i' && kind != 'u') {
      throw py::type_error("actions must be an integer array, got dtype " + std::string(py::str(arr.dtype())));
    }
    if (arr.ndim() != 1 || arr.shape(0) != n) {
      std::string shape;
      for (py::ssize_t i = 0; i < arr.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(arr.shape(i));
      throw py::value_error("actions must have shape (" + std::to_string(n) + ",), got (" + shape + ")");
    }
    auto actions = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    const int32_t* act = actions.data();
    for (int i = 0; i < n; ++i) {
      if (act[i] < 0 || act[i] >= a) {
        throw py::value_error("actions[" + std::to_string(i) + "] = " + std::to_string(act[i]) +
                              " is outside the action space 0.." + std::to_string(a - 1));
      }
    }
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock) throw std::runtime_error("VecEnv.step() while another thread steps it");
    {
      py::gil_scoped_release release;  // other Python threads run while the twin steps
      batch_->vec->Step(act);
    }
    return py::make_tuple(Out(views_.obs), Out(views_.rewards), Out(views_.terminated), Out(views_.truncated),
                          Out(views_.masks), Infos());
  }

  py::object ActionMasks() const {
    if (!started_) throw std::runtime_error("action_masks() before reset(): call reset(seed=...) first");
    return Out(views_.masks);
  }

  py::array_t<int32_t> HeuristicActions(const std::string& name) {
    if (!started_) throw std::runtime_error("heuristic_actions() before reset(): call reset(seed=...) first");
    const twin::Heuristic& h = heuristics_.Get(name);
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock) throw std::runtime_error("VecEnv.heuristic_actions() while another thread steps it");
    py::array_t<int32_t> out(num_envs());
    int32_t* dst = out.mutable_data();
    for (int i = 0; i < num_envs(); ++i) {
      dst[i] = HeuristicAction(batch_->envs[i]->inner(), h, &scratch_obs_, &scratch_mask_, &scratch_actions_);
    }
    return out;
  }

 private:
  // The numpy views over the batch buffers, made once (the buffers never move). Read-only, so a
  // caller cannot corrupt the environments' state through them.
  void MakeViews() {
    const py::ssize_t n = num_envs(), d = spec().observation_size, a = spec().num_actions;
    py::capsule owner(new std::shared_ptr<Batch>(batch_),
                      [](void* p) { delete static_cast<std::shared_ptr<Batch>*>(p); });
    auto view = [&](const void* ptr, std::vector<py::ssize_t> shape, const py::dtype& dt) {
      std::vector<py::ssize_t> strides(shape.size());
      py::ssize_t stride = dt.itemsize();
      for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= shape[i];
      }
      py::array arr(dt, shape, strides, ptr, owner);
      py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
      return arr;
    };
    const py::dtype f32 = py::dtype::of<float>(), f64 = py::dtype::of<double>(), i32 = py::dtype::of<int32_t>(),
                    i8 = py::dtype::of<int8_t>(), boolean = py::dtype::of<bool>();
    const twin::VecEnv& v = *batch_->vec;
    BatchInfo& b = *batch_->info;
    // VecEnv's buffers hold 0/1 bytes, which NumPy reads as bool without a copy.
    views_.obs = view(v.Observations(), {n, d}, f32);
    views_.masks = view(v.Masks(), {n, a}, boolean);
    views_.rewards = view(v.Rewards(), {n}, f32);
    views_.accepted = view(v.Accepted(), {n}, boolean);
    views_.terminated = view(b.terminated.data(), {n}, boolean);
    views_.truncated = view(v.Truncated(), {n}, boolean);
    views_.cause = view(b.cause.data(), {n}, i8);
    views_.path_index = view(b.path_index.data(), {n}, i32);
    views_.band = view(b.band.data(), {n}, i32);
    views_.slot = view(b.slot.data(), {n}, i32);
    views_.slots = view(b.slots.data(), {n}, i32);
    views_.modulation = view(b.modulation.data(), {n}, i32);
    views_.src = view(b.src.data(), {n}, i32);
    views_.dst = view(b.dst.data(), {n}, i32);
    views_.bit_rate = view(b.bit_rate_gbps.data(), {n}, f64);
    views_.margin = view(b.gsnr_margin_db.data(), {n}, f64);
    views_.latency = view(b.latency_us.data(), {n}, f64);
    views_.power = view(b.incremental_power_w.data(), {n}, f64);
    views_.final_flag = view(v.Dones(), {n}, boolean);
    views_.final_obs = view(v.FinalObservations(), {n, d}, f32);
    views_.final_masks = view(v.FinalMasks(), {n, a}, boolean);
    views_.episode_flag = view(b.episode_flag.data(), {n}, boolean);
    views_.episode_return = view(b.episode_return.data(), {n}, f64);
    views_.episode_length = view(b.episode_length.data(), {n}, i32);
    views_.episode_blocking = view(b.episode_blocking.data(), {n}, f64);
  }

  py::object Out(const py::array& view) const { return copy_ ? view.attr("copy")() : py::object(view); }

  py::dict Infos() const {
    py::dict d;
    d["accepted"] = Out(views_.accepted);
    d["block_cause"] = Out(views_.cause);
    d["path_index"] = Out(views_.path_index);
    d["band"] = Out(views_.band);
    d["slot"] = Out(views_.slot);
    d["slots"] = Out(views_.slots);
    d["modulation"] = Out(views_.modulation);
    d["gsnr_margin_db"] = Out(views_.margin);
    d["latency_us"] = Out(views_.latency);
    d["incremental_power_w"] = Out(views_.power);
    d["src"] = Out(views_.src);
    d["dst"] = Out(views_.dst);
    d["bit_rate_gbps"] = Out(views_.bit_rate);
    d["action_mask"] = Out(views_.masks);
    d["final_observation"] = Out(views_.final_obs);
    d["_final_observation"] = Out(views_.final_flag);
    d["final_action_mask"] = Out(views_.final_masks);
    py::dict episode;
    episode["r"] = Out(views_.episode_return);
    episode["l"] = Out(views_.episode_length);
    episode["blocking"] = Out(views_.episode_blocking);
    d["episode"] = episode;
    d["_episode"] = Out(views_.episode_flag);
    return d;
  }

  struct Views {
    py::array obs, masks, rewards, accepted, terminated, truncated, cause, path_index, band, slot, slots, modulation,
        src, dst, bit_rate, margin, latency, power, final_flag, final_obs, final_masks, episode_flag, episode_return,
        episode_length, episode_blocking;
  };

  Twin twin_;
  bool copy_;
  std::shared_ptr<Batch> batch_;
  Views views_;
  bool started_ = false;
  std::mutex busy_;
  HeuristicCache heuristics_;
  std::vector<float> scratch_obs_;
  std::vector<uint8_t> scratch_mask_;
  std::vector<ActionChoice> scratch_actions_;
};

}  // namespace

void BindEnvs(py::module_& m) {
  py::class_<PyEnv> env(m, "Env", "One environment of the twin (wrapped by eonops.Env).");
  env.def(py::init<py::handle, const std::string&>(), py::arg("config"), py::arg("origin"))
      .def("reset", &PyEnv::Reset, py::arg("seed"))
      .def("step", &PyEnv::Step, py::arg("action"))
      .def("action_masks", &PyEnv::ActionMask)
      .def("heuristic_action", &PyEnv::HeuristicActionOf, py::arg("name"))
      .def("current_request", &PyEnv::CurrentRequest)
      .def("network_status", &PyEnv::NetworkStatus);
  BindTwinProperties(env);

  py::class_<PyVecEnv> vec(m, "VecEnv", "A batch of environments stepped in one call (wrapped by eonops.VecEnv).");
  vec.def(py::init([](py::handle config, const std::string& origin, int num_envs, int threads, bool copy) {
            return std::make_unique<PyVecEnv>(config, origin, num_envs, threads, copy);
          }),
          py::arg("config"), py::arg("origin"), py::arg("num_envs"), py::arg("threads"), py::arg("copy"))
      .def("reset", &PyVecEnv::Reset, py::arg("seed"))
      .def("step", &PyVecEnv::Step, py::arg("actions"))
      .def("action_masks", &PyVecEnv::ActionMasks)
      .def("heuristic_actions", &PyVecEnv::HeuristicActions, py::arg("name"))
      .def_property_readonly("num_envs", &PyVecEnv::num_envs);
  BindTwinProperties(vec);
}

}  // namespace eonops::python
