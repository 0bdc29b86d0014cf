// Data-parallel learning over PyTorch distributed (c10d, in Debian's libtorch): N learner
// processes ("ranks") each step their own environments and compute their own PPO gradients;
// after every backward pass the gradients are averaged across ranks with Gloo's all-reduce, so
// every rank takes the same optimiser step and all ranks hold identical weights after every
// update. This is decentralized distributed PPO (Wijmans et al., "DD-PPO", ICLR 2020): no
// parameter server; rank 0 only hosts the rendezvous (a c10d TCPStore) and does the run's
// bookkeeping (tracking, checkpoints, the exported policy).
//
// What is shared, so that the ranks stay identical: the initial weights (broadcast from rank 0),
// the averaged gradients and the minibatch's approximate KL (so all ranks stop an update early
// together), and the observation-normalisation statistics (gathered from every rank and merged
// in rank order once per rollout). What is not: environments and action sampling, seeded per
// rank, so the ranks explore different trajectories.
//
// Failures: every collective and the rendezvous have a deadline (`timeout`); a rank that dies
// closes its connections and the others fail at their next collective, one that hangs makes
// them fail at the deadline, with a DistributedError naming this rank and the operation.
//
//   DistributedOptions o = DistributedOptionsFromEnvironment();  // WORLD_SIZE, RANK, ...
//   ParseMaster("10.0.0.5:29500", &o);                          // or --master HOST:PORT
//   std::unique_ptr<DataParallelGroup> group = DataParallelGroup::Join(o);
//   TrainerSetup setup;
//   setup.data_parallel = group.get();   // agents::Trainer does the rest
//
// Torch-free header (the torch-side helpers take forward-declared types).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace eonops::agents {

class RunningNormalizer;

struct DistributedOptions {
  int world_size = 1;  // 1: not distributed
  int rank = 0;        // 0 .. world_size - 1; rank 0 hosts the rendezvous
  std::string master_host = "127.0.0.1";
  int master_port = 29500;  // PyTorch's default
  // The longest a rank waits for the others: at the rendezvous and in any collective.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
};

// The options from PyTorch's variables WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT (each
// optional; absent ones keep their defaults). Throws std::invalid_argument naming a variable
// with a bad value.
DistributedOptions DistributedOptionsFromEnvironment();
// "HOST:PORT" (HOST may be a name, an IPv4 address or a bracketed IPv6 one). Throws
// std::invalid_argument.
void ParseMaster(const std::string& text, DistributedOptions* options);
// Throws std::invalid_argument unless world_size >= 1, 0 <= rank < world_size, a port in
// 1..65535 and a positive timeout.
void ValidateDistributedOptions(const DistributedOptions& options);

// A collective failed or timed out (a rank died, hung, or never joined).
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One process's membership of the group, with collectives over plain buffers. Every rank must
// make the same calls in the same order with the same sizes.
class DataParallelGroup {
 public:
  // Rendezvous: rank 0 listens on master_port and waits for the others; the others connect to
  // it. Returns when all world_size ranks have joined; throws DistributedError after
  // `timeout` naming what did not happen.
  static std::unique_ptr<DataParallelGroup> Join(const DistributedOptions& options);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const;
  int world_size() const;
  const DistributedOptions& options() const;

  // data[i] <- mean over ranks of data[i].
  void AllReduceMean(float* data, size_t n);
  // data <- rank 0's data.
  void Broadcast(float* data, size_t n);
  // Every rank's `mine` (all of the same size), in rank order.
  std::vector<std::vector<double>> AllGather(const std::vector<double>& mine);
  void Barrier();

 private:
  struct Impl;
  explicit DataParallelGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The seed a rank uses for what it must not share with the other ranks (environments, action
// sampling, minibatch order): `seed` itself on rank 0, so that a one-rank run is exactly a
// non-distributed one, a derived one elsewhere.
uint64_t RankSeed(uint64_t seed, int rank);

// Torch-side helpers for agents/ (defined in distributed.cc).
//
// Averages the module's gradients across ranks in one all-reduce; `also_averaged`, when given,
// travels in the same message and comes back averaged too (PPO's approximate KL).
void AverageGradients(DataParallelGroup& group, torch::nn::Module& module,
                      double* also_averaged = nullptr);
// Copies rank 0's parameters (and buffers) into every rank's module.
void BroadcastParameters(DataParallelGroup& group, torch::nn::Module& module);
// Merges every rank's `local` statistics, in rank order, into `global` (identically on all
// ranks) and clears `local`.
void MergeAcrossRanks(DataParallelGroup& group, RunningNormalizer& local,
                      RunningNormalizer& global);

}  // namespace eonops::agents
