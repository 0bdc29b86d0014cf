#include "agents/fused_mlp.h"

#include <c10/util/string_utils.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <limits>
#include <stdexcept>

namespace eonops::agents {

namespace {
// GCC/clang vector extensions: 8 lanes, one AVX2 register or two SSE2 ones. A C-style cast
// between two of them reinterprets the bits (the extensions' defined way to do so).
typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));
}  // namespace

// Cephes' tanhf on 8 lanes at a time: an odd polynomial below |x| = 0.625, 1 - 2 / (e^{2|x|} + 1)
// above, with e^t by Cephes' expf (range reduction by ln 2 in two parts, a degree-6
// polynomial, the power of two built in the exponent bits). Above |x| = 9 tanh rounds to +-1
// in float, so t is capped at 18. Selections are bit masks, so every lane computes both
// branches and the loop has no branch per element. Cloned for AVX2 (picked at load time);
// without FMA either way, so every clone rounds alike.
__attribute__((target_clones("avx2", "default"))) void TanhInPlace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    // Whole chunks are loaded and stored in place; only the last, partial one goes through a
    // padded copy (a copy per chunk would stall every load on the store it follows).
    float* chunk = x + i;
    float tail[8] = {};
    const int64_t lanes = std::min<int64_t>(n - i, 8);
    if (lanes < 8) chunk = static_cast<float*>(std::memcpy(tail, x + i, static_cast<size_t>(lanes) * sizeof(float)));
    F8 v;
    std::memcpy(&v, chunk, sizeof v);
    const I8 sign = (I8)v & static_cast<int32_t>(0x80000000u);
    const I8 magnitude = (I8)v & 0x7fffffff;
    const F8 a = (F8)magnitude;
    const F8 s = v * v;
    const F8 small =
        ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s + 1.33314422036e-1f) * s -
         3.33332819422e-1f) *
            s * v +
        v;
    const F8 doubled = 2.0f * a;
    const I8 below_cap = doubled < 18.0f;
    const I8 t_bits = (below_cap & (I8)doubled) | (~below_cap & 0x41900000);  // 18.0f
    const F8 t = (F8)t_bits;
    const I8 k = __builtin_convertvector(t * 1.44269504088896341f + 0.5f, I8);  // t >= 0: floor
    const F8 fk = __builtin_convertvector(k, F8);
    const F8 r = (t - fk * 0.693359375f) - fk * -2.12194440e-4f;
    const F8 p =
        (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
          1.6666665459e-1f) *
             r +
         5.0000001201e-1f) *
            r * r +
        r + 1.0f;
    const I8 scale_bits = (k + 127) << 23;
    const F8 large = 1.0f - 2.0f / (p * (F8)scale_bits + 1.0f);
    const I8 use_small = a < 0.625f;
    const I8 y = (use_small & (I8)small) |
                 (~use_small & ((I8)large | sign));
    std::memcpy(chunk, &y, sizeof y);
    if (lanes < 8) std::memcpy(x + i, tail, static_cast<size_t>(lanes) * sizeof(float));
  }
}

void ActivateInPlace(Activation activation, float* x, int64_t n) {
  switch (activation) {
    case Activation::kTanh:
      TanhInPlace(x, n);
      break;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Activation::kElu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : std::expm1(x[i]);
      break;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.01f * x[i];
      break;
  }
}

namespace {

// d *= the activation's derivative, from its output y (each of these is a function of y).
void ActivationBackward(Activation activation, const float* y, float* d, int64_t n) {
  switch (activation) {
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) d[i] *= 1.0f - y[i] * y[i];
      break;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.0f ? d[i] : 0.0f;
      break;
    case Activation::kElu:  // y = e^x - 1 below zero: dy/dx = y + 1
      for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.0f ? d[i] : d[i] * (y[i] + 1.0f);
      break;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) d[i] = y[i] > 0.0f ? d[i] : 0.01f * d[i];
      break;
  }
}

const float* Data(const torch::Tensor& t) { return t.data_ptr<float>(); }

}  // namespace

bool FusedActorCritic::Supports(const ModelOptions& options) {
  return options.policy == PolicyArchitecture::kMlp && !options.shared_trunk;
}

FusedActorCritic::FusedActorCritic(ActorCritic model) : model_(std::move(model)) {
  if (!Supports(model_->options())) {
    throw std::invalid_argument("FusedActorCritic: only an MLP actor with its own critic");
  }
  activation_ = model_->options().activation;
  observation_size_ = model_->observation_size();
  num_actions_ = model_->num_actions();
  auto add = [this](std::vector<Layer>& net, const torch::nn::Linear& linear) {
    Layer l;
    l.weight = linear->weight;
    l.bias = linear->bias;
    if (l.weight.scalar_type() != torch::kFloat || !l.weight.is_contiguous() || !l.bias.is_contiguous()) {
      throw std::invalid_argument("FusedActorCritic: parameters must be contiguous float32");
    }
    l.out = static_cast<int>(l.weight.size(0));
    l.in = static_cast<int>(l.weight.size(1));
    l.offset = total_;
    total_ += l.out * l.in + l.out;
    net.push_back(std::move(l));
  };
  for (const auto& layer : model_->actor()->layers()) add(actor_, layer);
  add(actor_, model_->policy_head());
  for (const auto& layer : model_->critic()->layers()) add(critic_, layer);
  add(critic_, model_->value_head());
}

void FusedActorCritic::Prepare(Workspace& ws, int64_t rows, const std::vector<Layer>& actor,
                               const std::vector<Layer>& critic, int num_actions) {
  if (ws.rows >= rows && ws.actor.size() + 1 == actor.size()) return;
  ws.rows = std::max(rows, ws.rows);
  int widest = 1;
  ws.actor.resize(actor.size() - 1);
  ws.critic.resize(critic.size() - 1);
  for (size_t l = 0; l + 1 < actor.size(); ++l) ws.actor[l].resize(ws.rows * actor[l].out);
  for (size_t l = 0; l + 1 < critic.size(); ++l) ws.critic[l].resize(ws.rows * critic[l].out);
  for (const auto* net : {&actor, &critic}) {
    for (const Layer& l : *net) widest = std::max({widest, l.in, l.out});
  }
  ws.logits.resize(ws.rows * num_actions);
  ws.probs.resize(ws.rows * num_actions);
  ws.act_probs.resize(ws.rows * num_actions);
  ws.log_probs.resize(ws.rows * num_actions);
  ws.d_logits.resize(ws.rows * num_actions);
  ws.values.resize(ws.rows);
  ws.d_values.resize(ws.rows);
  ws.d_hidden.resize(ws.rows * widest);
  ws.d_prev.resize(ws.rows * widest);
}

void FusedActorCritic::Forward(const float* observations, int64_t rows, Workspace& ws) const {
  Prepare(ws, rows, actor_, critic_, num_actions_);
  auto run = [&](const std::vector<Layer>& net, std::vector<std::vector<float>>& hidden, float* out) {
    const float* x = observations;
    for (size_t l = 0; l < net.size(); ++l) {
      const Layer& layer = net[l];
      float* y = l + 1 < net.size() ? hidden[l].data() : out;
      const float* bias = Data(layer.bias);
      for (int64_t r = 0; r < rows; ++r) std::copy_n(bias, layer.out, y + r * layer.out);
      // y[rows, out] += x[rows, in] W[out, in]^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), layer.out, layer.in, 1.0f, x,
                  layer.in, Data(layer.weight), layer.in, 1.0f, y, layer.out);
      if (l + 1 < net.size()) ActivateInPlace(activation_, y, rows * layer.out);
      x = y;
    }
  };
  run(actor_, ws.actor, ws.logits.data());
  run(critic_, ws.critic, ws.values.data());
}

void FusedActorCritic::Act(const float* observations, const bool* masks, int64_t rows, Rng& rng,
                           int64_t* actions, float* log_probs, float* values, Workspace& ws) const {
  Forward(observations, rows, ws);
  const int a_count = num_actions_;
  for (int64_t r = 0; r < rows; ++r) {
    const float* z = &ws.logits[r * a_count];
    const bool* m = masks + r * a_count;
    bool any = false;
    for (int a = 0; a < a_count; ++a) any = any || m[a];
    // As MaskedCategorical: masked actions get kMaskedLogit; a row with none feasible is
    // uniform over all actions.
    auto logit = [&](int a) { return m[a] ? z[a] : kMaskedLogit; };
    double max = -std::numeric_limits<double>::infinity();
    for (int a = 0; a < a_count; ++a) max = std::max<double>(max, logit(a));
    double sum = 0.0;
    for (int a = 0; a < a_count; ++a) sum += std::exp(logit(a) - max);
    const double log_sum = std::log(sum);
    // The probabilities in double, once, for the total and the inverse-CDF walk alike.
    double* p = &ws.act_probs[r * a_count];
    double total = 0.0;
    int64_t last = -1;
    for (int a = 0; a < a_count; ++a) {
      p[a] = std::exp(logit(a) - max - log_sum);
      if (!any || m[a]) total += p[a], last = a;
    }
    const double target = Uniform01(rng) * total;
    int64_t chosen = last;
    double cumulative = 0.0;
    for (int a = 0; a < a_count; ++a) {
      if (any && !m[a]) continue;
      cumulative += p[a];
      if (target < cumulative) {
        chosen = a;
        break;
      }
    }
    actions[r] = chosen;
    log_probs[r] = static_cast<float>(logit(static_cast<int>(chosen)) - max - log_sum);
    values[r] = ws.values[r];
  }
}

FusedActorCritic::PartLoss FusedActorCritic::ForwardBackward(const Batch& batch, int64_t begin, int64_t end,
                                                            int64_t n, const PpoOptions& o, float* grads,
                                                            Workspace& ws) const {
  PartLoss out;
  if (end <= begin) {
    std::fill_n(grads, total_, 0.0f);
    return out;
  }
  const int64_t len = end - begin;
  const int a_count = num_actions_;
  const float* obs = batch.observations + begin * observation_size_;
  Forward(obs, len, ws);

  // The loss is a sum over the part's rows divided by the minibatch size n, so that the parts'
  // losses and gradients add up to the minibatch means.
  const double inv_n = 1.0 / static_cast<double>(n);
  const float lo = 1.0f - o.clip, hi = 1.0f + o.clip;
  for (int64_t r = 0; r < len; ++r) {
    const int64_t row = begin + r;
    const float* z = &ws.logits[r * a_count];
    const bool* m = batch.masks + row * a_count;
    float* logp = &ws.log_probs[r * a_count];
    float* p = &ws.probs[r * a_count];
    float* dz = &ws.d_logits[r * a_count];
    bool any = false;
    for (int a = 0; a < a_count; ++a) any = any || m[a];
    float max = -std::numeric_limits<float>::infinity();
    for (int a = 0; a < a_count; ++a) max = std::max(max, m[a] ? z[a] : kMaskedLogit);
    double sum = 0.0;
    for (int a = 0; a < a_count; ++a) sum += std::exp(static_cast<double>((m[a] ? z[a] : kMaskedLogit) - max));
    // (x - max) - log(sum), as torch's log_softmax: max + log(sum) would lose log(sum) in
    // float when max is kMaskedLogit (a row with no feasible action).
    const float log_sum = static_cast<float>(std::log(sum));
    double entropy = 0.0;
    for (int a = 0; a < a_count; ++a) {
      logp[a] = ((m[a] ? z[a] : kMaskedLogit) - max) - log_sum;
      p[a] = std::exp(logp[a]);
      entropy -= static_cast<double>(p[a]) * logp[a];
    }
    const int64_t action = batch.actions[row];
    const float log_ratio = logp[action] - batch.old_log_probs[row];
    const float ratio = std::exp(log_ratio);
    out.kl += ((ratio - 1.0f) - log_ratio) * inv_n;
    out.clipped += std::fabs(ratio - 1.0f) > o.clip ? 1.0 : 0.0;
    const float adv = batch.advantages[row];
    const float unclipped = adv * ratio, clipped = adv * std::clamp(ratio, lo, hi);
    out.policy_loss -= std::min(unclipped, clipped) * inv_n;
    // d min / d ratio: the unclipped term's when it is the smaller, or when the clamp is
    // inactive (the terms are then equal, and torch's min splits the gradient between two
    // equal halves); zero when the clipped term wins outside the clip range.
    const bool in_range = ratio >= lo && ratio <= hi;
    const double d_ratio = (in_range || unclipped < clipped) ? adv : 0.0;
    const double d_logp = -d_ratio * ratio * inv_n;
    out.entropy += entropy * inv_n;

    const float v = ws.values[r], ret = batch.returns[row];
    double d_v;
    if (o.clip_value) {
      const float old = batch.old_values[row];
      const float delta = v - old;
      const float v_clipped = old + std::clamp(delta, -o.value_clip, o.value_clip);
      const bool v_in_range = delta >= -o.value_clip && delta <= o.value_clip;
      const float e1 = (v - ret) * (v - ret), e2 = (v_clipped - ret) * (v_clipped - ret);
      out.value_loss += 0.5 * std::max(e1, e2) * inv_n;
      const double g1 = v - ret, g2 = v_in_range ? (v_clipped - ret) : 0.0f;
      d_v = e1 > e2 ? g1 : e1 < e2 ? g2 : 0.5 * (g1 + g2);
    } else {
      out.value_loss += 0.5 * (v - ret) * (v - ret) * inv_n;
      d_v = v - ret;
    }
    ws.d_values[r] = static_cast<float>(o.value_coef * d_v * inv_n);

    // d loss / d logit_k = d_logp (1[k = a] - p_k) + (c_H / n) p_k (log p_k + H) on feasible
    // actions; masked logits (and a row with none feasible) get no gradient.
    const double c_h = o.entropy_coef * inv_n;
    for (int a = 0; a < a_count; ++a) {
      if (!any || !m[a]) {
        dz[a] = 0.0f;
        continue;
      }
      dz[a] = static_cast<float>(d_logp * ((a == action ? 1.0 : 0.0) - p[a]) + c_h * p[a] * (logp[a] + entropy));
    }
  }

  auto backward = [&](const std::vector<Layer>& net, const std::vector<std::vector<float>>& hidden,
                      const float* d_out) {
    const float* dz = d_out;  // gradient of the layer's pre-activation output
    for (size_t l = net.size(); l-- > 0;) {
      const Layer& layer = net[l];
      const float* x = l == 0 ? obs : hidden[l - 1].data();
      float* dw = grads + layer.offset;
      float* db = dw + static_cast<size_t>(layer.out) * layer.in;
      // dW[out, in] = dz[len, out]^T x[len, in]
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, layer.out, layer.in, static_cast<int>(len), 1.0f, dz,
                  layer.out, x, layer.in, 0.0f, dw, layer.in);
      std::fill_n(db, layer.out, 0.0f);  // the weights' gradient is written whole by sgemm
      for (int64_t r = 0; r < len; ++r) {
        const float* row = dz + r * layer.out;
        for (int k = 0; k < layer.out; ++k) db[k] += row[k];
      }
      if (l == 0) break;
      // dx[len, in] = dz[len, out] W[out, in], then through the previous layer's activation.
      float* dx = dz == ws.d_hidden.data() ? ws.d_prev.data() : ws.d_hidden.data();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(len), layer.in, layer.out, 1.0f, dz,
                  layer.out, Data(layer.weight), layer.in, 0.0f, dx, layer.in);
      ActivationBackward(activation_, x, dx, len * layer.in);
      dz = dx;
    }
  };
  backward(actor_, ws.actor, ws.d_logits.data());
  backward(critic_, ws.critic, ws.d_values.data());
  return out;
}

template <typename Fn>
void FusedActorCritic::ForEachParameter(Fn&& fn) const {
  for (const auto* net : {&actor_, &critic_}) {
    for (const Layer& l : *net) {
      fn(l.weight, l.offset);
      fn(l.bias, l.offset + l.out * l.in);
    }
  }
}

void FusedActorCritic::CopyGradientsTo(const float* grads) const {
  torch::NoGradGuard no_grad;
  auto copy = [](torch::Tensor param, const float* from) {
    if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
    std::copy_n(from, param.numel(), param.mutable_grad().data_ptr<float>());
  };
  ForEachParameter([&](const torch::Tensor& param, int offset) { copy(param, grads + offset); });
}

double ClipGradientNorm(float* grads, int64_t n, double max_norm) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(grads[i]) * grads[i];
  const double norm = std::sqrt(sum);
  const double coef = max_norm / (norm + 1e-6);
  if (max_norm > 0 && coef < 1.0) {
    const float scale = static_cast<float>(coef);
    for (int64_t i = 0; i < n; ++i) grads[i] *= scale;
  }
  return norm;
}

void FusedActorCritic::AdamStep(torch::optim::Adam& optimizer, const float* grads) const {
  torch::NoGradGuard no_grad;
  if (optimizer.param_groups().size() != 1) throw std::invalid_argument("AdamStep: one parameter group");
  const auto& options = static_cast<const torch::optim::AdamOptions&>(optimizer.param_groups()[0].options());
  if (options.amsgrad()) throw std::invalid_argument("AdamStep: amsgrad is not supported");
  const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
  const double decay = options.weight_decay();
  auto& states = optimizer.state();
  auto step = [&](torch::Tensor& param, const float* g) {
    // The key torch's Adam files a parameter's state under (torch/csrc/api/src/optim/adam.cpp).
    const std::string key = c10::guts::to_string(param.unsafeGetTensorImpl());
    auto found = states.find(key);
    if (found == states.end()) {
      auto state = std::make_unique<torch::optim::AdamParamState>();
      state->step(0);
      state->exp_avg(torch::zeros_like(param));
      state->exp_avg_sq(torch::zeros_like(param));
      found = states.emplace(key, std::move(state)).first;
    }
    auto& state = static_cast<torch::optim::AdamParamState&>(*found->second);
    state.step(state.step() + 1);
    const double correction1 = 1.0 - std::pow(beta1, static_cast<double>(state.step()));
    const double correction2 = 1.0 - std::pow(beta2, static_cast<double>(state.step()));
    const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
    const float step_size = static_cast<float>(options.lr() / correction1);
    const float root_correction2 = static_cast<float>(std::sqrt(correction2));
    const float eps = static_cast<float>(options.eps()), wd = static_cast<float>(decay);
    float* p = param.data_ptr<float>();
    float* m = state.exp_avg().data_ptr<float>();
    float* v = state.exp_avg_sq().data_ptr<float>();
    const int64_t count = param.numel();
    for (int64_t i = 0; i < count; ++i) {
      const float gi = wd != 0.0f ? g[i] + wd * p[i] : g[i];
      m[i] = m[i] * b1 + gi * (1.0f - b1);
      v[i] = v[i] * b2 + gi * gi * (1.0f - b2);
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) / root_correction2 + eps);
    }
  };
  ForEachParameter([&](torch::Tensor param, int offset) { step(param, grads + offset); });
}

}  // namespace eonops::agents
