#include "agents/options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "twin/envs.h"
#include "twin/json_util.h"
#include "twin/scenario.h"

namespace eonops::agents {

using nlohmann::json;

std::string ToString(PolicyArchitecture p) {
  return p == PolicyArchitecture::kMlp ? "mlp" : "candidate-scorer";
}

std::string ToString(Activation activation) {
  switch (activation) {
    case Activation::kTanh:
      return "tanh";
    case Activation::kRelu:
      return "relu";
    case Activation::kElu:
      return "elu";
    case Activation::kLeakyRelu:
      return "leaky_relu";
  }
  return "?";
}

std::string ToString(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kPpo: return "ppo";
    case Algorithm::kDqn: return "dqn";
    case Algorithm::kEs: return "es";
  }
  return "?";
}

namespace {

const char* TypeName(const json& j) { return j.type_name(); }

// Reads the members of one JSON object into struct fields, remembering which keys it knew, so
// that Finish() can reject the rest by name (with a "did you mean" for near misses).
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string source, std::string prefix)
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {
    if (!j_.is_object())
      Fail(prefix_.empty() ? "(top level)" : prefix_,
           "must be an object, got " + std::string(TypeName(j_)));
  }

  [[noreturn]] void Fail(const std::string& key, const std::string& reason) const {
    throw ConfigError(source_ + ": " + key + ": " + reason);
  }
  std::string Path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }
  const json* Find(const std::string& key) {
    known_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  void Read(const std::string& key, bool* out) {
    if (const json* v = Find(key)) {
      if (!v->is_boolean())
        Fail(Path(key), "must be true or false, got " + std::string(TypeName(*v)));
      *out = v->get<bool>();
    }
  }
  void Read(const std::string& key, std::string* out) {
    if (const json* v = Find(key)) {
      if (!v->is_string()) Fail(Path(key), "must be a string, got " + std::string(TypeName(*v)));
      *out = v->get<std::string>();
    }
  }
  void Read(const std::string& key, float* out) {
    if (const json* v = Find(key)) *out = static_cast<float>(Number(key, *v));
  }
  void Read(const std::string& key, int* out) {
    if (const json* v = Find(key))
      *out = static_cast<int>(
          Integer(key, *v, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
  }
  void Read(const std::string& key, int64_t* out) {
    if (const json* v = Find(key))
      *out = Integer(key, *v, std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max());
  }
  void Read(const std::string& key, uint64_t* out) {
    if (const json* v = Find(key)) {
      if (v->is_number_unsigned()) {
        *out = v->get<uint64_t>();
      } else {
        *out = static_cast<uint64_t>(Integer(key, *v, 0, std::numeric_limits<int64_t>::max()));
      }
    }
  }
  void Read(const std::string& key, std::vector<int>* out) {
    if (const json* v = Find(key)) {
      if (!v->is_array())
        Fail(Path(key), "must be an array of integers, got " + std::string(TypeName(*v)));
      out->clear();
      for (const json& e : *v) out->push_back(static_cast<int>(Integer(key, e, 1, 1 << 20)));
    }
  }

  // Rejects every key that no Read() asked for.
  void Finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      // '_' keys are comments ("_source"), allowed anywhere as in every eonops config.
      if (known_.count(it.key()) || it.key().rfind('_', 0) == 0) continue;
      const std::string best =
          twin::NearestKey(it.key(), std::vector<std::string>(known_.begin(), known_.end()));
      std::string reason = "unknown key";
      if (!best.empty()) reason += " (did you mean '" + Path(best) + "'?)";
      Fail(Path(it.key()), reason);
    }
  }

  // A sub-object (it must be an object if present).
  const json* Section(const std::string& key) {
    const json* v = Find(key);
    if (v && !v->is_object())
      Fail(Path(key), "must be an object, got " + std::string(TypeName(*v)));
    return v;
  }
  const std::string& source() const { return source_; }

 private:
  double Number(const std::string& key, const json& v) const {
    if (!v.is_number()) Fail(Path(key), "must be a number, got " + std::string(TypeName(v)));
    double d = v.get<double>();
    if (!std::isfinite(d)) Fail(Path(key), "must be finite");
    return d;
  }
  int64_t Integer(const std::string& key, const json& v, int64_t lo, int64_t hi) const {
    int64_t value = 0;
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() &&
          v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        Fail(Path(key), "is out of range");
      }
      value = v.get<int64_t>();
    } else if (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9e15) {
      value = static_cast<int64_t>(v.get<double>());  // 1e6 is a fine way to write a step count
    } else {
      Fail(Path(key),
           "must be an integer, got " + (v.is_number() ? v.dump() : std::string(TypeName(v))));
    }
    if (value < lo || value > hi) {
      Fail(Path(key), "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                          std::to_string(value));
    }
    return value;
  }

  const json& j_;
  std::string source_, prefix_;
  std::set<std::string> known_;
};

void Check(bool ok, const std::string& source, const std::string& key, const std::string& reason) {
  if (!ok) throw ConfigError(source + ": " + key + ": " + reason);
}

Activation ParseActivation(const std::string& s, const std::string& source,
                           const std::string& key) {
  for (Activation a :
       {Activation::kTanh, Activation::kRelu, Activation::kElu, Activation::kLeakyRelu}) {
    if (s == ToString(a)) return a;
  }
  throw ConfigError(source + ": " + key + ": unknown activation '" + s +
                    "' (expected tanh, relu, elu or leaky_relu)");
}

void ReadModel(ObjectReader& r, ModelOptions* m) {
  r.Read("hidden_sizes", &m->hidden_sizes);
  std::string activation = ToString(m->activation);
  r.Read("activation", &activation);
  m->activation = ParseActivation(activation, r.source(), r.Path("activation"));
  r.Read("shared_trunk", &m->shared_trunk);
  r.Read("dueling", &m->dueling);
  r.Read("orthogonal_init", &m->orthogonal_init);
  std::string policy = ToString(m->policy);
  r.Read("policy", &policy);
  if (policy == "mlp") {
    m->policy = PolicyArchitecture::kMlp;
  } else if (policy == "candidate-scorer") {
    m->policy = PolicyArchitecture::kCandidateScorer;
  } else {
    r.Fail(r.Path("policy"), "unknown policy '" + policy + "' (expected mlp or candidate-scorer)");
  }
  r.Read("scorer_hidden_sizes", &m->scorer_hidden_sizes);
  r.Read("context_hidden_sizes", &m->context_hidden_sizes);
  r.Read("prior_scale", &m->prior_scale);
  r.Read("prior_feature", &m->prior_feature);
  r.Read("action_features_offset", &m->action_features_offset);
  r.Read("action_features_size", &m->action_features_size);
  r.Finish();
  Check(!m->hidden_sizes.empty(), r.source(), r.Path("hidden_sizes"), "needs at least one layer");
  if (m->policy == PolicyArchitecture::kCandidateScorer) {
    Check(!m->shared_trunk, r.source(), r.Path("shared_trunk"), "a candidate scorer has no shared trunk");
    Check(m->prior_feature >= 0, r.source(), r.Path("prior_feature"), "must be >= 0");
    Check(m->action_features_offset >= 0 && m->action_features_size >= 0, r.source(),
          r.Path("action_features_size"), "must be >= 0");
  }
}

void ReadPpo(ObjectReader& r, PpoOptions* p) {
  r.Read("rollout_steps", &p->rollout_steps);
  r.Read("epochs", &p->epochs);
  r.Read("minibatches", &p->minibatches);
  r.Read("learning_rate", &p->learning_rate);
  r.Read("anneal_learning_rate", &p->anneal_learning_rate);
  r.Read("adam_epsilon", &p->adam_epsilon);
  r.Read("gamma", &p->gamma);
  r.Read("gae_lambda", &p->gae_lambda);
  r.Read("clip", &p->clip);
  r.Read("clip_value", &p->clip_value);
  r.Read("value_clip", &p->value_clip);
  r.Read("value_coef", &p->value_coef);
  r.Read("entropy_coef", &p->entropy_coef);
  r.Read("max_grad_norm", &p->max_grad_norm);
  r.Read("normalize_advantages", &p->normalize_advantages);
  r.Read("target_kl", &p->target_kl);
  r.Read("reward_centering", &p->reward_centering);
  r.Read("fused", &p->fused);
  r.Finish();
  const std::string& s = r.source();
  Check(p->rollout_steps > 0, s, r.Path("rollout_steps"), "must be positive");
  Check(p->epochs > 0, s, r.Path("epochs"), "must be positive");
  Check(p->minibatches > 0, s, r.Path("minibatches"), "must be positive");
  Check(p->learning_rate > 0, s, r.Path("learning_rate"), "must be positive");
  Check(p->adam_epsilon > 0, s, r.Path("adam_epsilon"), "must be positive");
  Check(p->gamma >= 0 && p->gamma <= 1, s, r.Path("gamma"), "must be in [0, 1]");
  Check(p->gae_lambda >= 0 && p->gae_lambda <= 1, s, r.Path("gae_lambda"), "must be in [0, 1]");
  Check(p->clip > 0, s, r.Path("clip"), "must be positive");
  Check(p->value_clip > 0, s, r.Path("value_clip"), "must be positive");
  Check(p->value_coef >= 0, s, r.Path("value_coef"), "must be >= 0");
  Check(p->entropy_coef >= 0, s, r.Path("entropy_coef"), "must be >= 0");
  Check(p->target_kl >= 0, s, r.Path("target_kl"), "must be >= 0 (0 disables)");
}

void ReadDqn(ObjectReader& r, DqnOptions* d) {
  r.Read("learning_rate", &d->learning_rate);
  r.Read("adam_epsilon", &d->adam_epsilon);
  r.Read("gamma", &d->gamma);
  r.Read("batch_size", &d->batch_size);
  r.Read("buffer_size", &d->buffer_size);
  r.Read("learning_starts", &d->learning_starts);
  r.Read("train_frequency", &d->train_frequency);
  r.Read("gradient_steps", &d->gradient_steps);
  r.Read("target_update_interval", &d->target_update_interval);
  r.Read("tau", &d->tau);
  r.Read("double_q", &d->double_q);
  r.Read("epsilon_start", &d->epsilon_start);
  r.Read("epsilon_end", &d->epsilon_end);
  r.Read("exploration_fraction", &d->exploration_fraction);
  r.Read("max_grad_norm", &d->max_grad_norm);
  r.Finish();
  const std::string& s = r.source();
  Check(d->learning_rate > 0, s, r.Path("learning_rate"), "must be positive");
  Check(d->adam_epsilon > 0, s, r.Path("adam_epsilon"), "must be positive");
  Check(d->gamma >= 0 && d->gamma <= 1, s, r.Path("gamma"), "must be in [0, 1]");
  Check(d->batch_size > 0, s, r.Path("batch_size"), "must be positive");
  Check(d->buffer_size >= d->batch_size, s, r.Path("buffer_size"), "must be >= batch_size");
  Check(d->learning_starts >= 0, s, r.Path("learning_starts"), "must be >= 0");
  Check(d->train_frequency > 0, s, r.Path("train_frequency"), "must be positive");
  Check(d->gradient_steps > 0, s, r.Path("gradient_steps"), "must be positive");
  Check(d->target_update_interval > 0, s, r.Path("target_update_interval"), "must be positive");
  Check(d->tau > 0 && d->tau <= 1, s, r.Path("tau"), "must be in (0, 1]");
  Check(d->epsilon_start >= 0 && d->epsilon_start <= 1, s, r.Path("epsilon_start"),
        "must be in [0, 1]");
  Check(d->epsilon_end >= 0 && d->epsilon_end <= 1, s, r.Path("epsilon_end"), "must be in [0, 1]");
  Check(d->exploration_fraction >= 0 && d->exploration_fraction <= 1, s,
        r.Path("exploration_fraction"), "must be in [0, 1]");
}

void ReadEs(ObjectReader& r, EsOptions* e) {
  r.Read("generations", &e->generations);
  r.Read("pairs", &e->pairs);
  r.Read("sigma", &e->sigma);
  r.Read("learning_rate", &e->learning_rate);
  r.Read("weight_decay", &e->weight_decay);
  r.Read("requests", &e->requests);
  r.Read("warmup", &e->warmup);
  r.Read("fitness", &e->fitness);
  r.Read("power_weight", &e->power_weight);
  r.Read("eval_interval", &e->eval_interval);
  r.Finish();
  const std::string& s = r.source();
  Check(e->generations >= 0, s, r.Path("generations"), "must be >= 0 (0: export the starting policy)");
  Check(e->pairs > 0, s, r.Path("pairs"), "must be positive");
  Check(e->sigma > 0, s, r.Path("sigma"), "must be positive");
  Check(e->learning_rate > 0, s, r.Path("learning_rate"), "must be positive");
  Check(e->weight_decay >= 0, s, r.Path("weight_decay"), "must be >= 0");
  Check(e->requests > 0, s, r.Path("requests"), "must be positive");
  Check(e->warmup >= 0, s, r.Path("warmup"), "must be >= 0");
  Check(e->fitness == "blocking" || e->fitness == "bit-rate-blocking" || e->fitness == "blocking+power", s,
        r.Path("fitness"), "must be blocking, bit-rate-blocking or blocking+power");
  Check(e->power_weight >= 0, s, r.Path("power_weight"), "must be >= 0");
  Check(e->eval_interval > 0, s, r.Path("eval_interval"), "must be positive");
}

void ReadTrain(ObjectReader& r, TrainOptions* t) {
  std::string algorithm = ToString(t->algorithm);
  r.Read("algorithm", &algorithm);
  if (algorithm == "ppo") {
    t->algorithm = Algorithm::kPpo;
  } else if (algorithm == "dqn") {
    t->algorithm = Algorithm::kDqn;
  } else if (algorithm == "es") {
    t->algorithm = Algorithm::kEs;
  } else {
    r.Fail(r.Path("algorithm"), "unknown algorithm '" + algorithm + "' (expected ppo, dqn or es)");
  }
  r.Read("total_steps", &t->total_steps);
  r.Read("schedule_steps", &t->schedule_steps);
  r.Read("num_envs", &t->num_envs);
  r.Read("env_threads", &t->env_threads);
  r.Read("torch_threads", &t->torch_threads);
  r.Read("learner_threads", &t->learner_threads);
  r.Read("seed", &t->seed);
  r.Read("normalize_observations", &t->normalize_observations);
  r.Read("observation_clip", &t->observation_clip);
  r.Read("log_interval", &t->log_interval);
  r.Read("eval_interval", &t->eval_interval);
  r.Read("checkpoint_interval", &t->checkpoint_interval);
  r.Read("episode_window", &t->episode_window);
  r.Finish();
  const std::string& s = r.source();
  Check(t->total_steps >= 0, s, r.Path("total_steps"), "must be >= 0");
  Check(t->schedule_steps >= 0, s, r.Path("schedule_steps"), "must be >= 0 (0: total_steps)");
  Check(t->num_envs > 0, s, r.Path("num_envs"), "must be positive");
  Check(t->env_threads > 0, s, r.Path("env_threads"), "must be positive");
  Check(t->torch_threads > 0, s, r.Path("torch_threads"), "must be positive");
  Check(t->learner_threads > 0 && t->learner_threads <= 64, s, r.Path("learner_threads"), "must be within 1..64");
  Check(t->observation_clip > 0, s, r.Path("observation_clip"), "must be positive");
  Check(t->log_interval > 0, s, r.Path("log_interval"), "must be positive");
  Check(t->eval_interval >= 0, s, r.Path("eval_interval"), "must be >= 0 (0 disables)");
  Check(t->checkpoint_interval >= 0, s, r.Path("checkpoint_interval"), "must be >= 0");
  Check(t->episode_window > 0, s, r.Path("episode_window"), "must be positive");
}

std::string Stem(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

// A float as the short decimal it was written as (0.2f -> 0.2, not 0.20000000298023224).
double Short(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(f));
  return std::strtod(buf, nullptr);
}

}  // namespace

ModelOptions ParseModelOptions(const json& j, const std::string& source) {
  ModelOptions m;
  ObjectReader r(j, source, "model");
  ReadModel(r, &m);
  return m;
}

const std::vector<std::string>& ExperimentConfig::TwinSections() {
  static const std::vector<std::string> kSections = {"network", "traffic", "measurement", "env"};
  return kSections;
}

ExperimentConfig ParseExperimentConfig(const json& j, const std::string& source) {
  ExperimentConfig c;
  c.source = source;
  ObjectReader top(j, source, "");
  top.Read("name", &c.name);
  top.Read("description", &c.description);
  for (const char* note : {"_source", "_comment"}) top.Find(note);  // free-text provenance
  for (const std::string& section : ExperimentConfig::TwinSections()) {
    if (const json* v = top.Section(section)) c.twin[section] = *v;
  }
  // The twin's sections are the twin's to read, but now: a config is checked at load, never
  // half-read (twin::ConfigError names the file and the key path).
  twin::Scenario::FromJson(c.twin, source);
  twin::EnvConfig::FromJson(c.twin, source);
  if (const json* v = top.Section("train")) {
    ObjectReader r(*v, source, "train");
    ReadTrain(r, &c.train);
  }
  if (const json* v = top.Section("model")) {
    ObjectReader r(*v, source, "model");
    ReadModel(r, &c.model);
  }
  if (const json* v = top.Section("ppo")) {
    ObjectReader r(*v, source, "ppo");
    ReadPpo(r, &c.ppo);
  }
  if (const json* v = top.Section("dqn")) {
    ObjectReader r(*v, source, "dqn");
    ReadDqn(r, &c.dqn);
  }
  if (const json* v = top.Section("es")) {
    ObjectReader r(*v, source, "es");
    ReadEs(r, &c.es);
  }
  top.Finish();
  return c;
}

ExperimentConfig LoadExperimentConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open file");
  json j;
  try {
    j = json::parse(in, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    throw ConfigError(path + ": invalid JSON: " + e.what());
  }
  ExperimentConfig c = ParseExperimentConfig(j, path);
  if (c.name.empty()) c.name = Stem(path);
  return c;
}

json ToJson(const ModelOptions& m) {
  json j = {{"hidden_sizes", m.hidden_sizes},
            {"activation", ToString(m.activation)},
            {"shared_trunk", m.shared_trunk},
            {"dueling", m.dueling},
            {"orthogonal_init", m.orthogonal_init}};
  if (m.policy == PolicyArchitecture::kCandidateScorer) {
    j["policy"] = ToString(m.policy);
    j["scorer_hidden_sizes"] = m.scorer_hidden_sizes;
    j["context_hidden_sizes"] = m.context_hidden_sizes;
    j["prior_scale"] = Short(m.prior_scale);
    j["prior_feature"] = m.prior_feature;
    j["action_features_offset"] = m.action_features_offset;
    j["action_features_size"] = m.action_features_size;
  }
  return j;
}

json ToJson(const ExperimentConfig& c) {
  const TrainOptions& t = c.train;
  const PpoOptions& p = c.ppo;
  const DqnOptions& d = c.dqn;
  json j = c.twin;
  j["name"] = c.name;
  j["description"] = c.description;
  j["train"] = {{"algorithm", ToString(t.algorithm)},
                {"total_steps", t.total_steps},
                {"schedule_steps", t.schedule_steps},
                {"num_envs", t.num_envs},
                {"env_threads", t.env_threads},
                {"torch_threads", t.torch_threads},
                {"learner_threads", t.learner_threads},
                {"seed", t.seed},
                {"normalize_observations", t.normalize_observations},
                {"observation_clip", Short(t.observation_clip)},
                {"log_interval", t.log_interval},
                {"eval_interval", t.eval_interval},
                {"checkpoint_interval", t.checkpoint_interval},
                {"episode_window", t.episode_window}};
  j["model"] = ToJson(c.model);
  j["ppo"] = {{"rollout_steps", p.rollout_steps},
              {"epochs", p.epochs},
              {"minibatches", p.minibatches},
              {"learning_rate", Short(p.learning_rate)},
              {"anneal_learning_rate", p.anneal_learning_rate},
              {"adam_epsilon", Short(p.adam_epsilon)},
              {"gamma", Short(p.gamma)},
              {"gae_lambda", Short(p.gae_lambda)},
              {"clip", Short(p.clip)},
              {"clip_value", p.clip_value},
              {"value_clip", Short(p.value_clip)},
              {"value_coef", Short(p.value_coef)},
              {"entropy_coef", Short(p.entropy_coef)},
              {"max_grad_norm", Short(p.max_grad_norm)},
              {"normalize_advantages", p.normalize_advantages},
              {"target_kl", Short(p.target_kl)},
              {"reward_centering", p.reward_centering}};
  // Written only when off, so that the config of every existing experiment stays what it was.
  if (!p.fused) j["ppo"]["fused"] = false;
  j["dqn"] = {{"learning_rate", Short(d.learning_rate)},
              {"adam_epsilon", Short(d.adam_epsilon)},
              {"gamma", Short(d.gamma)},
              {"batch_size", d.batch_size},
              {"buffer_size", d.buffer_size},
              {"learning_starts", d.learning_starts},
              {"train_frequency", d.train_frequency},
              {"gradient_steps", d.gradient_steps},
              {"target_update_interval", d.target_update_interval},
              {"tau", Short(d.tau)},
              {"double_q", d.double_q},
              {"epsilon_start", Short(d.epsilon_start)},
              {"epsilon_end", Short(d.epsilon_end)},
              {"exploration_fraction", Short(d.exploration_fraction)},
              {"max_grad_norm", Short(d.max_grad_norm)}};
  const EsOptions& e = c.es;
  j["es"] = {{"generations", e.generations},
             {"pairs", e.pairs},
             {"sigma", Short(e.sigma)},
             {"learning_rate", Short(e.learning_rate)},
             {"weight_decay", Short(e.weight_decay)},
             {"requests", e.requests},
             {"warmup", e.warmup},
             {"fitness", e.fitness},
             {"power_weight", Short(e.power_weight)},
             {"eval_interval", e.eval_interval}};
  return j;
}

std::map<std::string, std::string> FlattenParams(const ExperimentConfig& c) {
  std::map<std::string, std::string> out;
  json j = ToJson(c);
  // Only the learner's own sections and the env as one canonical string: the algorithm not in
  // use is left out so that a PPO run does not list DQN knobs it never read.
  for (const char* section : {"train", "model",
                              c.train.algorithm == Algorithm::kPpo   ? "ppo"
                              : c.train.algorithm == Algorithm::kDqn ? "dqn"
                                                                     : "es"}) {
    for (auto it = j[section].begin(); it != j[section].end(); ++it) {
      out[std::string(section) + "." + it.key()] =
          it->is_string() ? it->get<std::string>() : it->dump();
    }
  }
  for (auto it = c.twin.begin(); it != c.twin.end(); ++it) {
    if (!it->is_object()) continue;
    for (auto f = it->begin(); f != it->end(); ++f) {
      if (!f.key().empty() && f.key()[0] == '_') continue;  // provenance notes
      out[it.key() + "." + f.key()] = f->is_string() ? f->get<std::string>() : f->dump();
    }
  }
  out["name"] = c.name;
  return out;
}

double LinearSchedule(double start, double end, double fraction, double progress) {
  if (fraction <= 0) return end;
  double t = std::clamp(progress / fraction, 0.0, 1.0);
  return start + t * (end - start);
}

}  // namespace eonops::agents
