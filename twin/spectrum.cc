#include "twin/spectrum.h"

#include <algorithm>
#include <stdexcept>

namespace eonops::twin {

namespace {

inline bool Bit(const uint64_t* w, int i) { return (w[i >> 6] >> (i & 63)) & 1u; }

// Index of the first bit >= from whose value equals `value`, or num_slots.
inline int NextBit(const uint64_t* w, int num_slots, int from, bool value) {
  if (from >= num_slots) return num_slots;
  int word = from >> 6;
  uint64_t x = value ? w[word] : ~w[word];
  x &= ~uint64_t{0} << (from & 63);
  const int words = (num_slots + 63) >> 6;
  while (x == 0) {
    if (++word >= words) return num_slots;
    x = value ? w[word] : ~w[word];
  }
  int pos = (word << 6) + __builtin_ctzll(x);
  return pos < num_slots ? pos : num_slots;
}

// Calls f(start, length) for each maximal free run, lowest first, until f returns true.
template <typename F>
void ForEachFreeRun(const uint64_t* occ, int num_slots, F&& f) {
  int pos = NextBit(occ, num_slots, 0, false);
  while (pos < num_slots) {
    int end = NextBit(occ, num_slots, pos, true);
    if (f(pos, end - pos)) return;
    pos = NextBit(occ, num_slots, end, false);
  }
}

}  // namespace

FitPolicy ParseFitPolicy(const std::string& s) {
  if (s == "first-fit" || s == "ff") return FitPolicy::kFirstFit;
  if (s == "last-fit" || s == "lf") return FitPolicy::kLastFit;
  if (s == "best-fit" || s == "bf") return FitPolicy::kBestFit;
  if (s == "exact-fit" || s == "ef") return FitPolicy::kExactFit;
  throw std::invalid_argument("fit policy must be first-fit, last-fit, best-fit or exact-fit, got '" + s + "'");
}

const char* ToString(FitPolicy f) {
  switch (f) {
    case FitPolicy::kFirstFit: return "first-fit";
    case FitPolicy::kLastFit: return "last-fit";
    case FitPolicy::kBestFit: return "best-fit";
    case FitPolicy::kExactFit: return "exact-fit";
  }
  return "?";
}

int FirstFit(const uint64_t* occ, int num_slots, int width) {
  if (width <= 0 || width > num_slots) return -1;
  int found = -1;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    if (len >= width) found = start;
    return found >= 0;
  });
  return found;
}

int LastFit(const uint64_t* occ, int num_slots, int width) {
  if (width <= 0 || width > num_slots) return -1;
  int found = -1;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    if (len >= width) found = start + len - width;  // the block flush with the run's top
    return false;
  });
  return found;
}

int BestFit(const uint64_t* occ, int num_slots, int width) {
  if (width <= 0 || width > num_slots) return -1;
  int found = -1, best_len = num_slots + 1;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    if (len >= width && len < best_len) {
      best_len = len;
      found = start;
    }
    return best_len == width;  // cannot do better than an exact fit
  });
  return found;
}

int ExactFit(const uint64_t* occ, int num_slots, int width) {
  if (width <= 0 || width > num_slots) return -1;
  int exact = -1, first = -1;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    if (len >= width && first < 0) first = start;
    if (len == width) exact = start;
    return exact >= 0;
  });
  return exact >= 0 ? exact : first;
}

int FeasibleStarts(const uint64_t* occ, int num_slots, int width, uint64_t* starts) {
  const int words = (num_slots + 63) >> 6;
  for (int i = 0; i < words; ++i) starts[i] = 0;
  if (width <= 0 || width > num_slots) return 0;
  int n = 0;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    for (int s = start; s + width <= start + len; ++s) starts[s >> 6] |= uint64_t{1} << (s & 63);
    n += std::max(0, len - width + 1);
    return false;
  });
  return n;
}

int Fit(FitPolicy policy, const uint64_t* occ, int num_slots, int width) {
  switch (policy) {
    case FitPolicy::kExactFit: return ExactFit(occ, num_slots, width);
    case FitPolicy::kFirstFit: return FirstFit(occ, num_slots, width);
    case FitPolicy::kLastFit: return LastFit(occ, num_slots, width);
    case FitPolicy::kBestFit: return BestFit(occ, num_slots, width);
  }
  return -1;
}

int FreeBlocks(const uint64_t* occ, int num_slots, int width, int max_blocks, int* starts,
               int* run_sizes) {
  int n = 0;
  if (width <= 0 || max_blocks <= 0) return 0;
  ForEachFreeRun(occ, num_slots, [&](int start, int len) {
    if (len >= width) {
      starts[n] = start;
      if (run_sizes) run_sizes[n] = len;
      ++n;
    }
    return n >= max_blocks;
  });
  return n;
}

int CountFree(const uint64_t* occ, int num_slots) {
  int used = 0;
  const int full = num_slots >> 6;
  for (int i = 0; i < full; ++i) used += __builtin_popcountll(occ[i]);
  if (num_slots & 63) used += __builtin_popcountll(occ[full] & ((uint64_t{1} << (num_slots & 63)) - 1));
  return num_slots - used;
}

int CountFreeRuns(const uint64_t* occ, int num_slots) {
  int runs = 0;
  ForEachFreeRun(occ, num_slots, [&](int, int) {
    ++runs;
    return false;
  });
  return runs;
}

SpectrumState::SpectrumState(int num_fibres, const BandPlan& plan) : num_fibres_(num_fibres) {
  if (num_fibres <= 0) throw std::invalid_argument("SpectrumState: no fibres");
  for (const auto& b : plan.bands()) {
    if (b.num_slots <= 0) throw std::invalid_argument("SpectrumState: band " + b.name + " has no slots");
    band_slots_.push_back(b.num_slots);
    band_word_offset_.push_back(words_per_fibre_);
    band_slot_offset_.push_back(slots_per_fibre_);
    const int words = (b.num_slots + 63) / 64;
    words_per_fibre_ += words;
    slots_per_fibre_ += b.num_slots;
    max_words_ = std::max(max_words_, words);
  }
  words_.assign(static_cast<size_t>(num_fibres) * words_per_fibre_, 0);
  owners_.assign(static_cast<size_t>(num_fibres) * slots_per_fibre_, kFree);
  lightpaths_.assign(static_cast<size_t>(num_fibres) * band_slots_.size(), 0);
  used_slots_.assign(lightpaths_.size(), 0);
}

void SpectrumState::PathOccupancy(const std::vector<int>& fibres, int band, uint64_t* out) const {
  const int words = (band_slots_[band] + 63) >> 6;
  for (int i = 0; i < words; ++i) out[i] = 0;
  AddOccupancy(fibres, band, out);
}

void SpectrumState::AddOccupancy(const std::vector<int>& fibres, int band, uint64_t* out) const {
  const int words = (band_slots_[band] + 63) >> 6;
  for (int f : fibres) {
    const uint64_t* w = Words(f, band);
    for (int i = 0; i < words; ++i) out[i] |= w[i];
  }
}

bool SpectrumState::IsFree(const std::vector<int>& fibres, int band, int slot, int width) const {
  if (band < 0 || band >= NumBands() || slot < 0 || width <= 0 || slot + width > band_slots_[band]) return false;
  for (int f : fibres) {
    if (f < 0 || f >= num_fibres_) return false;
    const uint64_t* w = Words(f, band);
    for (int s = slot; s < slot + width; ++s) {
      if (Bit(w, s)) return false;
    }
  }
  return true;
}

bool SpectrumState::Allocate(const std::vector<int>& fibres, int band, int slot, int width, int32_t owner) {
  if (owner < 0 || fibres.empty() || !IsFree(fibres, band, slot, width)) return false;
  for (size_t i = 0; i < fibres.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (fibres[i] == fibres[j]) return false;  // a fibre listed twice would double-book
    }
  }
  const size_t nb = band_slots_.size();
  for (int f : fibres) {
    uint64_t* w = MutableWords(f, band);
    int32_t* o = MutableOwners(f, band);
    for (int s = slot; s < slot + width; ++s) {
      w[s >> 6] |= uint64_t{1} << (s & 63);
      o[s] = owner;
    }
    ++lightpaths_[static_cast<size_t>(f) * nb + band];
    used_slots_[static_cast<size_t>(f) * nb + band] += width;
  }
  return true;
}

bool SpectrumState::Release(const std::vector<int>& fibres, int band, int slot, int width, int32_t owner) {
  if (band < 0 || band >= NumBands() || slot < 0 || width <= 0 || slot + width > band_slots_[band] ||
      fibres.empty()) {
    return false;
  }
  for (int f : fibres) {
    if (f < 0 || f >= num_fibres_) return false;
    for (int s = slot; s < slot + width; ++s) {
      if (Owner(f, band, s) != owner) return false;
    }
  }
  const size_t nb = band_slots_.size();
  for (int f : fibres) {
    uint64_t* w = MutableWords(f, band);
    int32_t* o = MutableOwners(f, band);
    for (int s = slot; s < slot + width; ++s) {
      w[s >> 6] &= ~(uint64_t{1} << (s & 63));
      o[s] = kFree;
    }
    --lightpaths_[static_cast<size_t>(f) * nb + band];
    used_slots_[static_cast<size_t>(f) * nb + band] -= width;
  }
  return true;
}

void SpectrumState::Clear() {
  std::fill(words_.begin(), words_.end(), 0);
  std::fill(owners_.begin(), owners_.end(), kFree);
  std::fill(lightpaths_.begin(), lightpaths_.end(), 0);
  std::fill(used_slots_.begin(), used_slots_.end(), 0);
}

long long SpectrumState::TotalUsedSlots(int band) const {
  long long total = 0;
  for (int f = 0; f < num_fibres_; ++f) total += UsedSlots(f, band);
  return total;
}

std::string SpectrumState::CheckInvariants() const {
  for (int f = 0; f < num_fibres_; ++f) {
    for (int b = 0; b < NumBands(); ++b) {
      const uint64_t* w = Words(f, b);
      int used = 0;
      std::vector<int32_t> owners_seen;
      for (int s = 0; s < band_slots_[b]; ++s) {
        const bool bit = Bit(w, s);
        const int32_t o = Owner(f, b, s);
        if (bit != (o != kFree)) {
          return "fibre " + std::to_string(f) + " band " + std::to_string(b) + " slot " + std::to_string(s) +
                 ": bit and owner disagree";
        }
        if (bit) {
          ++used;
          if (s == 0 || Owner(f, b, s - 1) != o) owners_seen.push_back(o);
        }
      }
      // Bits beyond num_slots in the last word must stay clear.
      const int words = (band_slots_[b] + 63) >> 6;
      if ((band_slots_[b] & 63) && (w[words - 1] >> (band_slots_[b] & 63)) != 0) {
        return "fibre " + std::to_string(f) + " band " + std::to_string(b) + ": bits set past the band edge";
      }
      if (used != UsedSlots(f, b)) {
        return "fibre " + std::to_string(f) + " band " + std::to_string(b) + ": used-slot counter " +
               std::to_string(UsedSlots(f, b)) + " but " + std::to_string(used) + " bits set";
      }
      if (static_cast<int>(owners_seen.size()) != Lightpaths(f, b)) {
        return "fibre " + std::to_string(f) + " band " + std::to_string(b) + ": lightpath counter " +
               std::to_string(Lightpaths(f, b)) + " but " + std::to_string(owners_seen.size()) + " blocks";
      }
    }
  }
  return "";
}

}  // namespace eonops::twin
