// c10d (PyTorch distributed) as Debian's libtorch ships it: TCPStore for the rendezvous and
// ProcessGroupGloo for the collectives. The Gloo headers come from libgloo-dev; the process
// group's implementation is in libtorch_cpu.
#define USE_C10D_GLOO 1
#include "agents/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <nlohmann/json.hpp>

#include "agents/normalizer.h"

namespace eonops::agents {
namespace {

int ParseInt(const std::string& name, const std::string& text, int lo, int hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < lo || v > hi)
    throw std::invalid_argument(name + ": '" + text + "' is not an integer in " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v);
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Where this rank's Gloo connections listen: GLOO_SOCKET_IFNAME (PyTorch's variable) names an
// interface; on a single machine (loopback master) the loopback address; otherwise the address
// this machine's hostname resolves to, which Gloo falls back from to loopback.
std::shared_ptr<::gloo::transport::Device> GlooDevice(const DistributedOptions& o) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return ::c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (IsLoopback(o.master_host)) return ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return ::c10d::ProcessGroupGloo::createDefaultDevice();
}

// c10d's messages carry a C++ backtrace after the first line: keep the line.
std::string FirstLine(const std::exception& e) {
  std::string what = e.what();
  return what.substr(0, std::min(what.find('\n'), size_t{300}));
}

std::string Describe(const DistributedOptions& o) {
  return "rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) +
         " (master " + o.master_host + ":" + std::to_string(o.master_port) + ")";
}

}  // namespace

DistributedOptions DistributedOptionsFromEnvironment() {
  DistributedOptions o;
  auto get = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (const char* v = get("WORLD_SIZE")) o.world_size = ParseInt("WORLD_SIZE", v, 1, 65536);
  if (const char* v = get("RANK")) o.rank = ParseInt("RANK", v, 0, 65535);
  if (const char* v = get("MASTER_ADDR")) o.master_host = v;
  if (const char* v = get("MASTER_PORT")) o.master_port = ParseInt("MASTER_PORT", v, 1, 65535);
  return o;
}

void ParseMaster(const std::string& text, DistributedOptions* options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument("--master: expected HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  options->master_host = host;
  options->master_port = ParseInt("--master port", text.substr(colon + 1), 1, 65535);
}

void ValidateDistributedOptions(const DistributedOptions& o) {
  if (o.world_size < 1)
    throw std::invalid_argument("world size must be at least 1, got " +
                                std::to_string(o.world_size));
  if (o.rank < 0 || o.rank >= o.world_size)
    throw std::invalid_argument("rank must be within 0.." + std::to_string(o.world_size - 1) +
                                ", got " + std::to_string(o.rank));
  if (o.master_port < 1 || o.master_port > 65535)
    throw std::invalid_argument("master port must be within 1..65535");
  if (o.master_host.empty()) throw std::invalid_argument("master host is empty");
  if (o.timeout.count() <= 0) throw std::invalid_argument("timeout must be positive");
}

uint64_t RankSeed(uint64_t seed, int rank) {
  if (rank == 0) return seed;
  // SplitMix64 of (seed, rank): well-mixed, and far from the seed + k sequences the
  // environments use, so two ranks never replay each other's episodes.
  uint64_t z = seed ^ (0x9E3779B97F4A7C15ULL * (static_cast<uint64_t>(rank) + 0x5eed));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct DataParallelGroup::Impl {
  DistributedOptions options;
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<::c10d::ProcessGroupGloo> group;

  // Runs one collective to completion, turning c10d's errors into one that says who and what.
  void Wait(const char* what, c10::intrusive_ptr<::c10d::Work> work) {
    try {
      work->wait(options.timeout);
    } catch (const std::exception& e) {
      throw DistributedError("data-parallel " + Describe(options) + ": " + what +
                             " failed: another rank died, hung or left the group (waited up to " +
                             std::to_string(options.timeout.count() / 1000) + " s): " + FirstLine(e));
    }
  }
};

DataParallelGroup::DataParallelGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DataParallelGroup::~DataParallelGroup() = default;

std::unique_ptr<DataParallelGroup> DataParallelGroup::Join(const DistributedOptions& options) {
  ValidateDistributedOptions(options);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto fail = [&](const std::string& why) {
    throw DistributedError("data-parallel " + Describe(options) + ": cannot join the group within " +
                           std::to_string(options.timeout.count() / 1000) + " s: " + why);
  };
  try {
    ::c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = options.world_size;
    // c10d's own wait for workers gives up silently and leaves the failure to the next store
    // call, a whole timeout later; the count below fails at the deadline and says how many came.
    so.waitWorkers = false;
    so.timeout = options.timeout;
    impl->store = c10::make_intrusive<::c10d::TCPStore>(options.master_host, so);
  } catch (const std::exception& e) {
    fail(std::string(options.rank == 0 ? "cannot listen on the master port"
                                       : "rank 0 did not answer (is it running and reachable?)") +
         ": " + FirstLine(e));
  }
  try {
    int64_t joined = impl->store->add("eonops/joined", 1);
    while (joined < options.world_size) {
      if (std::chrono::steady_clock::now() > deadline)
        fail("only " + std::to_string(joined) + " of " + std::to_string(options.world_size) +
             " ranks arrived (did every rank start, with the same --world-size and --master?)");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      joined = impl->store->add("eonops/joined", 0);
    }
    auto go = ::c10d::ProcessGroupGloo::Options::create(options.timeout);
    go->devices.push_back(GlooDevice(options));
    go->threads = 1;
    impl->group = c10::make_intrusive<::c10d::ProcessGroupGloo>(impl->store, options.rank,
                                                                 options.world_size, go);
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    fail("the rendezvous broke off (did a rank die while joining?): " + FirstLine(e));
  }
  std::unique_ptr<DataParallelGroup> g(new DataParallelGroup(std::move(impl)));
  g->Barrier();
  return g;
}

int DataParallelGroup::rank() const { return impl_->options.rank; }
int DataParallelGroup::world_size() const { return impl_->options.world_size; }
const DistributedOptions& DataParallelGroup::options() const { return impl_->options; }

void DataParallelGroup::AllReduceMean(float* data, size_t n) {
  if (world_size() == 1 || n == 0) return;
  std::vector<at::Tensor> t = {torch::from_blob(data, {static_cast<int64_t>(n)}, torch::kFloat32)};
  impl_->Wait("all-reduce", impl_->group->allreduce(t));
  t[0].div_(static_cast<double>(world_size()));
}

void DataParallelGroup::Broadcast(float* data, size_t n) {
  if (world_size() == 1 || n == 0) return;
  std::vector<at::Tensor> t = {torch::from_blob(data, {static_cast<int64_t>(n)}, torch::kFloat32)};
  ::c10d::BroadcastOptions bo;
  bo.rootRank = 0;
  impl_->Wait("broadcast", impl_->group->broadcast(t, bo));
}

std::vector<std::vector<double>> DataParallelGroup::AllGather(const std::vector<double>& mine) {
  if (world_size() == 1) return {mine};
  std::vector<double> copy = mine;
  std::vector<at::Tensor> input = {
      torch::from_blob(copy.data(), {static_cast<int64_t>(copy.size())}, torch::kFloat64)};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < world_size(); ++r)
    output[0].push_back(torch::empty({static_cast<int64_t>(copy.size())}, torch::kFloat64));
  impl_->Wait("all-gather", impl_->group->allgather(output, input));
  std::vector<std::vector<double>> out;
  for (const at::Tensor& t : output[0]) {
    const double* p = t.data_ptr<double>();
    out.emplace_back(p, p + t.numel());
  }
  return out;
}

void DataParallelGroup::Barrier() {
  if (world_size() == 1) return;
  impl_->Wait("barrier", impl_->group->barrier());
}

void AverageGradients(DataParallelGroup& group, torch::nn::Module& module, double* also_averaged) {
  if (group.world_size() == 1) return;
  std::vector<torch::Tensor> grads;
  int64_t n = also_averaged ? 1 : 0;
  for (const torch::Tensor& p : module.parameters()) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    n += p.grad().numel();
  }
  // One message for everything: a collective costs a round trip whatever its size here.
  std::vector<float> flat(static_cast<size_t>(n));
  int64_t offset = 0;
  for (const torch::Tensor& g : grads) {
    torch::from_blob(flat.data() + offset, g.sizes(), torch::kFloat32).copy_(g);
    offset += g.numel();
  }
  if (also_averaged) flat[static_cast<size_t>(offset)] = static_cast<float>(*also_averaged);
  group.AllReduceMean(flat.data(), flat.size());
  offset = 0;
  for (torch::Tensor& g : grads) {
    torch::NoGradGuard no_grad;
    g.copy_(torch::from_blob(flat.data() + offset, g.sizes(), torch::kFloat32));
    offset += g.numel();
  }
  if (also_averaged) *also_averaged = flat[static_cast<size_t>(offset)];
}

void BroadcastParameters(DataParallelGroup& group, torch::nn::Module& module) {
  if (group.world_size() == 1) return;
  std::vector<torch::Tensor> tensors = module.parameters();
  for (const torch::Tensor& b : module.buffers()) tensors.push_back(b);
  int64_t n = 0;
  for (const torch::Tensor& t : tensors) n += t.numel();
  std::vector<float> flat(static_cast<size_t>(n));
  int64_t offset = 0;
  for (const torch::Tensor& t : tensors) {
    torch::from_blob(flat.data() + offset, t.sizes(), torch::kFloat32).copy_(t.detach());
    offset += t.numel();
  }
  group.Broadcast(flat.data(), flat.size());
  torch::NoGradGuard no_grad;
  offset = 0;
  for (torch::Tensor& t : tensors) {
    t.copy_(torch::from_blob(flat.data() + offset, t.sizes(), torch::kFloat32));
    offset += t.numel();
  }
}

void MergeAcrossRanks(DataParallelGroup& group, RunningNormalizer& local,
                      RunningNormalizer& global) {
  // (count, mean..., m2...) of each rank, merged in rank order: the same arithmetic, so the
  // same result, on every rank.
  const nlohmann::json mine = local.ToJson();
  std::vector<double> packed = {mine["count"].get<double>()};
  for (double v : mine["mean"]) packed.push_back(v);
  for (double v : mine["m2"]) packed.push_back(v);
  const size_t size = static_cast<size_t>(local.size());
  for (const std::vector<double>& theirs : group.AllGather(packed)) {
    if (theirs[0] <= 0) continue;
    nlohmann::json j = {{"count", theirs[0]},
                        {"mean", std::vector<double>(theirs.begin() + 1, theirs.begin() + 1 + size)},
                        {"m2", std::vector<double>(theirs.begin() + 1 + size, theirs.end())},
                        {"clip", local.clip()}};
    global.Merge(RunningNormalizer::FromJson(j, "rank statistics"));
  }
  local = RunningNormalizer(local.size(), local.clip());
}

}  // namespace eonops::agents
