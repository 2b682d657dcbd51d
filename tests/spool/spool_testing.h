#pragma once
// Helpers shared by the spool tests.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "spool/spool.h"

namespace armored::spool::test {

// Deterministic payload of varying length for record number i.
inline std::string payload(std::uint64_t i) {
  return "envelope-" + std::to_string(i) + "-" + std::string(static_cast<std::size_t>(i % 37) * 4, 'p');
}

inline std::unique_ptr<Spool> open_ok(const std::filesystem::path& dir, const SpoolOptions& o = {}) {
  auto s = Spool::open(dir, o);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

// Every pending record, in order.
inline std::vector<SpoolRecord> all_pending(Spool& s) {
  auto r = s.peek(1u << 30, std::size_t{1} << 40);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<SpoolRecord>{};
}

inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".spool") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace armored::spool::test
