// Flex-grid spectrum occupancy of every directed fibre and band, as bitsets.
//
// Bit s of (fibre, band) is 1 when slot s is occupied. A lightpath takes the same block of
// contiguous slots on every fibre of its path (continuity and contiguity); its guard slots are
// part of the block (the slot count includes them, as DeepRMSA counts them). Each occupied slot
// also records the lightpath that holds it, so a release can check ownership.
//
//   SpectrumState s(topology.NumFibres(), plan);
//   std::vector<uint64_t> occ(s.MaxWords());
//   s.PathOccupancy(path.fibres, band, occ.data());
//   int slot = FirstFit(occ.data(), plan.band(band).num_slots, width);   // -1 if none
//   if (slot >= 0) s.Allocate(path.fibres, band, slot, width, lightpath_id);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twin/bands.h"

namespace eonops::twin {

enum class FitPolicy { kFirstFit, kLastFit, kBestFit, kExactFit };
FitPolicy ParseFitPolicy(const std::string& s);  // "first-fit" | "last-fit" | "best-fit" | "exact-fit"
const char* ToString(FitPolicy f);

// Searches over an occupancy bitset of `num_slots` slots (bit = 1: occupied) for a free block
// of `width` contiguous slots. Return the first slot of the block, or -1.
int FirstFit(const uint64_t* occupied, int num_slots, int width);
int LastFit(const uint64_t* occupied, int num_slots, int width);
// The block at the start of the smallest free run that fits (lowest index on ties).
int BestFit(const uint64_t* occupied, int num_slots, int width);
// The first free run of exactly `width` slots (it is consumed whole, leaving no fragment);
// first fit when there is none.
int ExactFit(const uint64_t* occupied, int num_slots, int width);
// Bit s of `starts` (words(num_slots) words) is set when [s, s + width) is free: every start
// slot a block of this width may take. Returns how many there are.
int FeasibleStarts(const uint64_t* occupied, int num_slots, int width, uint64_t* starts);
int Fit(FitPolicy policy, const uint64_t* occupied, int num_slots, int width);
// DeepRMSA's candidate blocks: the first slot of each maximal free run of at least `width`
// slots, lowest first, at most `max_blocks`; writes run sizes to `run_sizes` when non-null.
// Returns how many were written.
int FreeBlocks(const uint64_t* occupied, int num_slots, int width, int max_blocks, int* starts,
               int* run_sizes = nullptr);
// Number of free slots, and number of maximal free runs.
int CountFree(const uint64_t* occupied, int num_slots);
int CountFreeRuns(const uint64_t* occupied, int num_slots);

class SpectrumState {
 public:
  static constexpr int32_t kFree = -1;

  SpectrumState(int num_fibres, const BandPlan& plan);

  int NumFibres() const { return num_fibres_; }
  int NumBands() const { return static_cast<int>(band_slots_.size()); }
  int NumSlots(int band) const { return band_slots_[band]; }
  int MaxWords() const { return max_words_; }

  const uint64_t* Words(int fibre, int band) const {
    return &words_[static_cast<size_t>(fibre) * words_per_fibre_ + band_word_offset_[band]];
  }
  bool IsOccupied(int fibre, int band, int slot) const {
    return (Words(fibre, band)[slot >> 6] >> (slot & 63)) & 1u;
  }
  int32_t Owner(int fibre, int band, int slot) const {
    return owners_[static_cast<size_t>(fibre) * slots_per_fibre_ + band_slot_offset_[band] + slot];
  }
  // OR of the occupancy of every fibre in `fibres` into out[0 .. words(band)).
  void PathOccupancy(const std::vector<int>& fibres, int band, uint64_t* out) const;
  // ORs the occupancy of `fibres` into out[0 .. words(band)) (out keeps what it had).
  void AddOccupancy(const std::vector<int>& fibres, int band, uint64_t* out) const;
  bool IsFree(const std::vector<int>& fibres, int band, int slot, int width) const;

  // Takes slots [slot, slot + width) of `band` on every fibre for `owner` (>= 0). Changes
  // nothing and returns false when any of them is taken or out of range.
  bool Allocate(const std::vector<int>& fibres, int band, int slot, int width, int32_t owner);
  // Gives the block back. Changes nothing and returns false unless `owner` holds every slot.
  bool Release(const std::vector<int>& fibres, int band, int slot, int width, int32_t owner);
  void Clear();

  // Lightpaths currently crossing (fibre, band): a band's amplifiers on a fibre are lit while
  // this is positive.
  int Lightpaths(int fibre, int band) const {
    return lightpaths_[static_cast<size_t>(fibre) * band_slots_.size() + band];
  }
  int UsedSlots(int fibre, int band) const {
    return used_slots_[static_cast<size_t>(fibre) * band_slots_.size() + band];
  }
  long long TotalUsedSlots(int band) const;

  // Checks that bits, owners and counters agree; returns "" or a description of the first
  // inconsistency (tests run it after every event).
  std::string CheckInvariants() const;

 private:
  uint64_t* MutableWords(int fibre, int band) {
    return &words_[static_cast<size_t>(fibre) * words_per_fibre_ + band_word_offset_[band]];
  }
  int32_t* MutableOwners(int fibre, int band) {
    return &owners_[static_cast<size_t>(fibre) * slots_per_fibre_ + band_slot_offset_[band]];
  }

  int num_fibres_;
  std::vector<int> band_slots_, band_word_offset_, band_slot_offset_;
  int words_per_fibre_ = 0, slots_per_fibre_ = 0, max_words_ = 0;
  std::vector<uint64_t> words_;
  std::vector<int32_t> owners_;
  std::vector<int> lightpaths_, used_slots_;
};

}  // namespace eonops::twin
