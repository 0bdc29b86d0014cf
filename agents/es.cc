#include "agents/es.h"

#include <torch/utils.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "agents/model.h"
#include "agents/policy_heuristic.h"
#include "agents/random.h"
#include "agents/torch_policy.h"
#include "agents/trainer.h"
#include "twin/simulator.h"

namespace eonops::agents {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kCheckpointFormat = 1;

// Standard normal draws by Box-Muller over our own uniform draws (portable, reproducible).
void FillNormal(Rng& rng, std::vector<float>* out) {
  for (size_t i = 0; i < out->size(); i += 2) {
    const double u1 = std::max(Uniform01(rng), 1e-300), u2 = Uniform01(rng);
    const double r = std::sqrt(-2.0 * std::log(u1));
    (*out)[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
    if (i + 1 < out->size()) (*out)[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
  }
}

// The actor side of a candidate scorer: what ES searches over.
std::vector<torch::Tensor> ActorParameters(ActorCriticImpl& net) {
  std::vector<torch::Tensor> out;
  for (auto& item : net.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (name.rfind("context.", 0) == 0 || name.rfind("actor.", 0) == 0 || name.rfind("policy_head.", 0) == 0) {
      out.push_back(item.value());
    }
  }
  return out;
}

void SetFlat(const std::vector<torch::Tensor>& params, const std::vector<float>& theta) {
  torch::NoGradGuard no_grad;
  size_t off = 0;
  for (const torch::Tensor& p : params) {
    const int64_t n = p.numel();
    p.view({-1}).copy_(torch::from_blob(const_cast<float*>(&theta[off]), {n}, torch::kFloat32));
    off += static_cast<size_t>(n);
  }
}

std::vector<float> GetFlat(const std::vector<torch::Tensor>& params) {
  std::vector<float> theta;
  for (const torch::Tensor& p : params) {
    torch::Tensor c = p.detach().contiguous().view({-1});
    theta.insert(theta.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return theta;
}

}  // namespace

double EsTrainer::Fitness(const EsOptions& es, double blocking, double bit_rate_blocking, double power_w) {
  if (es.fitness == "bit-rate-blocking") return -bit_rate_blocking;
  if (es.fitness == "blocking+power") return -blocking - es.power_weight * power_w / 1000.0;
  return -blocking;
}

struct EsTrainer::Impl {
  ExperimentConfig config;
  std::shared_ptr<const twin::NetworkModel> model;
  twin::EnvConfig env;
  EsSetup setup;
  twin::EnvSpec spec;
  std::shared_ptr<ActorCriticImpl> network;  // theta lives in its actor parameters
  std::vector<torch::Tensor> actor_params;
  std::vector<float> theta;
  std::vector<double> adam_m, adam_v;
  int64_t adam_t = 0;
  int generation = 0;
  int64_t simulated_requests = 0;
  Rng rng;
  json init_policy;  // where theta started, when not from the prior

  Impl(const ExperimentConfig& c, std::shared_ptr<const twin::NetworkModel> m, const twin::EnvConfig& e, EsSetup s)
      : config(c), model(std::move(m)), env(e), setup(std::move(s)) {
    if (config.train.algorithm != Algorithm::kEs) {
      throw ConfigError(config.source + ": train.algorithm: EsTrainer needs es");
    }
    if (config.model.policy != PolicyArchitecture::kCandidateScorer) {
      throw ConfigError(config.source + ": model.policy: es trains a candidate-scorer");
    }
    spec = twin::MakeEnv(model, env)->Spec();
    ConfigureCandidateScorer(spec, &config);
    torch::manual_seed(config.train.seed);
    network = std::make_shared<ActorCriticImpl>(spec.observation_size, spec.num_actions, config.model);
    actor_params = ActorParameters(*network);
    theta = GetFlat(actor_params);
    if (!setup.init_policy_dir.empty()) InitFrom(setup.init_policy_dir);
    adam_m.assign(theta.size(), 0.0);
    adam_v.assign(theta.size(), 0.0);
    rng.seed(DeriveSeed(config.train.seed, 1));
  }

  // theta from another exported policy's actor; its scorer must be this one's, shape by shape.
  void InitFrom(const std::string& dir) {
    const Manifest source = ReadManifest(dir);
    const ModelOptions& a = source.architecture;
    const ModelOptions& b = config.model;
    const std::string where = dir + ": cannot start ES from this policy: ";
    if (source.network != NetworkKind::kActorCritic || a.policy != PolicyArchitecture::kCandidateScorer) {
      throw ConfigError(where + "not a candidate scorer");
    }
    if (a.scorer_hidden_sizes != b.scorer_hidden_sizes || a.context_hidden_sizes != b.context_hidden_sizes ||
        a.activation != b.activation || a.prior_scale != b.prior_scale || a.prior_feature != b.prior_feature ||
        a.action_features_size != b.action_features_size) {
      throw ConfigError(where + "its scorer (hidden sizes, context, activation, prior, action features) differs from model's");
    }
    auto net = std::dynamic_pointer_cast<ActorCriticImpl>(MakeNetwork(source));
    LoadModule(*net, (fs::path(dir) / source.weights_file).string());
    const std::vector<torch::Tensor> from = ActorParameters(*net);
    if (from.size() != actor_params.size()) throw ConfigError(where + "another number of actor tensors");
    for (size_t i = 0; i < from.size(); ++i) {
      if (!from[i].sizes().equals(actor_params[i].sizes())) {
        throw ConfigError(where + "actor tensor " + std::to_string(i) +
                          " has another shape (a context network reads the whole observation, so it fits one network only)");
      }
    }
    theta = GetFlat(from);
    SetFlat(actor_params, theta);
    init_policy = {{"dir", dir}, {"experiment", source.experiment}, {"run_id", source.run_id},
                   {"network", source.env_config.value("network", json::object())}};
  }

  Manifest MakeManifest() const {
    Manifest manifest;
    manifest.eonops_version = EonopsVersion();
    manifest.algorithm = "es";
    manifest.network = NetworkKind::kActorCritic;
    manifest.architecture = config.model;
    SetEnvSpec(spec, &manifest);
    manifest.env_config = config.twin;
    manifest.run_id = !setup.run_id.empty() ? setup.run_id : (setup.logger ? setup.logger->RunId() : "");
    manifest.experiment = config.name;
    manifest.train_steps = simulated_requests;
    manifest.seed = config.train.seed;
    manifest.created_at = UtcTimestamp();
    manifest.schedule = {{"es_generations", generation}};
    if (!init_policy.is_null()) manifest.schedule["es_init_policy"] = init_policy;
    return manifest;
  }

  // One simulation of the greedy policy with these actor parameters.
  twin::SimulationResult Simulate(ActorCriticImpl& net, const std::vector<float>& params, uint64_t seed,
                                  int64_t requests) const {
    SetFlat(ActorParameters(net), params);
    std::unique_ptr<Policy> policy = MakePolicy(MakeManifest(), net);
    PolicyHeuristic drl(*policy, model, env);
    twin::SimulationOptions opt;
    opt.requests = requests;
    opt.warmup = config.es.warmup;
    opt.batch_size = std::max<int64_t>(1, requests / 5);
    opt.seed = seed;
    return twin::Simulate(model, env.traffic, drl, opt);
  }

  void Generation() {
    const EsOptions& es = config.es;
    const int n = es.pairs;
    const size_t dim = theta.size();
    std::vector<std::vector<float>> eps(n, std::vector<float>(dim));
    for (auto& e : eps) FillNormal(rng, &e);
    const uint64_t seed = DeriveSeed(config.train.seed, 100000 + static_cast<uint64_t>(generation));
    std::vector<double> fitness(2 * n), blocking(2 * n);
    std::atomic<int> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
    auto worker = [&]() {
      // A private copy per thread; only its actor side is set (the critic is not used).
      auto net = std::make_shared<ActorCriticImpl>(spec.observation_size, spec.num_actions, config.model);
      std::vector<float> params(dim);
      for (int job; (job = next++) < 2 * n;) {
        const int i = job / 2;
        const float sign = job % 2 == 0 ? 1.0f : -1.0f;
        for (size_t j = 0; j < dim; ++j) params[j] = theta[j] + sign * es.sigma * eps[i][j];
        try {
          const twin::SimulationResult r = Simulate(*net, params, seed, es.requests);
          fitness[job] = Fitness(es, r.blocking.mean, r.bit_rate_blocking, r.power_mean_w);
          blocking[job] = r.blocking.mean;
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(1, setup.threads); ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);

    // Centred ranks in [-0.5, 0.5]: robust to the scale and outliers of the fitness.
    std::vector<int> order(2 * n);
    for (int i = 0; i < 2 * n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return fitness[a] < fitness[b]; });
    std::vector<double> rank(2 * n);
    for (int r = 0; r < 2 * n; ++r) rank[order[r]] = 2 * n > 1 ? static_cast<double>(r) / (2 * n - 1) - 0.5 : 0.0;
    std::vector<double> grad(dim, 0.0);
    for (int i = 0; i < n; ++i) {
      const double w = rank[2 * i] - rank[2 * i + 1];
      for (size_t j = 0; j < dim; ++j) grad[j] += w * eps[i][j];
    }
    const double scale = 1.0 / (n * es.sigma);
    ++adam_t;
    const double b1 = 0.9, b2 = 0.999;
    for (size_t j = 0; j < dim; ++j) {
      const double g = grad[j] * scale - es.weight_decay * theta[j];  // ascent direction
      adam_m[j] = b1 * adam_m[j] + (1 - b1) * g;
      adam_v[j] = b2 * adam_v[j] + (1 - b2) * g * g;
      const double mh = adam_m[j] / (1 - std::pow(b1, adam_t)), vh = adam_v[j] / (1 - std::pow(b2, adam_t));
      theta[j] += static_cast<float>(es.learning_rate * mh / (std::sqrt(vh) + 1e-8));
    }
    SetFlat(actor_params, theta);
    ++generation;
    simulated_requests += es.RequestsPerGeneration();

    double mean_f = 0, best_f = -1e300, mean_b = 0;
    for (int i = 0; i < 2 * n; ++i) {
      mean_f += fitness[i] / (2 * n);
      mean_b += blocking[i] / (2 * n);
      best_f = std::max(best_f, fitness[i]);
    }
    last_progress.generation = generation;
    last_progress.generations = es.generations;
    last_progress.mean_fitness = mean_f;
    last_progress.best_fitness = best_f;
    last_progress.mean_blocking = mean_b;
    if (setup.logger) {
      setup.logger->LogMetrics(generation, {{"es/mean_fitness", mean_f},
                                            {"es/best_fitness", best_f},
                                            {"es/mean_blocking", mean_b},
                                            {"es/theta_norm", Norm()}});
    }
  }

  double Norm() const {
    double s = 0;
    for (float x : theta) s += static_cast<double>(x) * x;
    return std::sqrt(s);
  }

  EsProgress last_progress;
};

void ConfigureCandidateScorer(const twin::EnvSpec& spec, ExperimentConfig* config) {
  const std::string where = config->source + ": model.policy: candidate-scorer ";
  if (config->train.algorithm == Algorithm::kDqn) throw ConfigError(where + "needs train.algorithm ppo or es");
  if (config->train.normalize_observations && config->train.algorithm == Algorithm::kPpo) {
    throw ConfigError(where + "needs train.normalize_observations false (its prior reads raw features)");
  }
  for (const twin::ObservationField& f : spec.observation_layout) {
    if (f.name != "action_features") continue;
    if (spec.num_actions < 2 || f.size % (spec.num_actions - 1) != 0) break;
    config->model.action_features_offset = f.offset;
    config->model.action_features_size = f.size / (spec.num_actions - 1);
    return;
  }
  throw ConfigError(where + "needs per-action features: set env.action_features true");
}

EsTrainer::EsTrainer(const ExperimentConfig& config, std::shared_ptr<const twin::NetworkModel> model,
                     const twin::EnvConfig& env, EsSetup setup)
    : impl_(std::make_unique<Impl>(config, std::move(model), env, std::move(setup))) {}

EsTrainer::~EsTrainer() = default;

int EsTrainer::generation() const { return impl_->generation; }

void EsTrainer::Train(int until_generation) {
  Impl& m = *impl_;
  if (until_generation < 0) until_generation = m.config.es.generations;
  if (m.setup.logger && m.generation == 0) m.setup.logger->LogParams(FlattenParams(m.config));
  const Clock::time_point start = Clock::now();
  const int64_t start_requests = m.simulated_requests;
  int last_eval = -1;
  while (m.generation < until_generation) {
    m.Generation();
    EsProgress p = m.last_progress;
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    p.simulated_requests_per_second = p.elapsed_s > 0 ? (m.simulated_requests - start_requests) / p.elapsed_s : 0;
    if (m.setup.on_progress) m.setup.on_progress(p);
    if (m.generation % m.config.es.eval_interval == 0) {
      if (m.setup.evaluate) {
        auto metrics = m.setup.evaluate(*SnapshotPolicy(), m.generation);
        if (m.setup.logger && !metrics.empty()) {
          std::map<std::string, double> prefixed;
          for (const auto& [k, v] : metrics) prefixed["eval/" + k] = v;
          m.setup.logger->LogMetrics(m.generation, prefixed);
        }
      }
      last_eval = m.generation;
      if (!m.setup.checkpoint_path.empty()) SaveCheckpoint(m.setup.checkpoint_path);
    }
  }
  if (m.setup.evaluate && last_eval != m.generation) {
    auto metrics = m.setup.evaluate(*SnapshotPolicy(), m.generation);
    if (m.setup.logger && !metrics.empty()) {
      std::map<std::string, double> prefixed;
      for (const auto& [k, v] : metrics) prefixed["eval/" + k] = v;
      m.setup.logger->LogMetrics(m.generation, prefixed);
    }
  }
  if (!m.setup.checkpoint_path.empty()) SaveCheckpoint(m.setup.checkpoint_path);
}

void EsTrainer::SaveCheckpoint(const std::string& path) const {
  const Impl& m = *impl_;
  json state = {{"format", kCheckpointFormat},
                {"algorithm", "es"},
                {"experiment", m.config.name},
                {"config_hash", m.spec.config_hash},
                {"dimension", m.theta.size()},
                {"generation", m.generation},
                {"simulated_requests", m.simulated_requests},
                {"theta", m.theta},
                {"adam_m", m.adam_m},
                {"adam_v", m.adam_v},
                {"adam_t", m.adam_t},
                {"rng", SaveRng(m.rng)},
                {"saved_at", UtcTimestamp()}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << state.dump() << "\n";
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  fs::rename(tmp, path);  // a crash never leaves half a checkpoint under the name
}

void EsTrainer::LoadCheckpoint(const std::string& path) {
  Impl& m = *impl_;
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open (no ES checkpoint there?)");
  json state;
  try {
    state = json::parse(in);
    if (state.at("format").get<int>() != kCheckpointFormat || state.at("algorithm") != "es") {
      throw ConfigError(path + ": not an ES checkpoint of this version");
    }
    if (state.at("config_hash").get<std::string>() != m.spec.config_hash) {
      throw ConfigError(path + ": config_hash: the environment's configuration changed since the checkpoint");
    }
    if (state.at("dimension").get<size_t>() != m.theta.size()) {
      throw ConfigError(path + ": dimension: the network's architecture changed since the checkpoint");
    }
    m.theta = state.at("theta").get<std::vector<float>>();
    m.adam_m = state.at("adam_m").get<std::vector<double>>();
    m.adam_v = state.at("adam_v").get<std::vector<double>>();
    m.adam_t = state.at("adam_t").get<int64_t>();
    m.generation = state.at("generation").get<int>();
    m.simulated_requests = state.at("simulated_requests").get<int64_t>();
    LoadRng(state.at("rng").get<std::string>(), &m.rng);
  } catch (const json::exception& e) {
    throw ConfigError(path + ": malformed ES checkpoint: " + e.what());
  }
  if (m.theta.size() != m.adam_m.size() || m.theta.size() != m.adam_v.size()) {
    throw ConfigError(path + ": inconsistent ES checkpoint");
  }
  SetFlat(m.actor_params, m.theta);
}

Manifest EsTrainer::MakeManifest() const { return impl_->MakeManifest(); }

std::unique_ptr<Policy> EsTrainer::SnapshotPolicy() const { return MakePolicy(MakeManifest(), *impl_->network); }

void EsTrainer::ExportPolicy(const std::string& dir) const {
  agents::ExportPolicy(MakeManifest(), *impl_->network, dir);
}

}  // namespace eonops::agents
