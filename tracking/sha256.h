// SHA-256 (FIPS 180-4), used to content-address artifacts.
//
// A small self-contained implementation: cpp-httplib's pkg-config file lists OpenSSL only as
// Requires.private, so libcrypto is not on our link line and pulling it in just for one hash
// would add a dependency edge for 100 lines of code.
//
//   eonops::tracking::Sha256 h;
//   h.Update("abc");
//   std::string hex = h.HexDigest();  // "ba7816bf..."
//   std::string file_hex = eonops::tracking::Sha256File("/tmp/policy.pt");
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eonops::tracking {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  std::string HexDigest();

 private:
  void Block(const uint8_t* p);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string Sha256Hex(std::string_view data);
// Throws std::runtime_error naming the file when it cannot be read.
std::string Sha256File(const std::string& path);

}  // namespace eonops::tracking
