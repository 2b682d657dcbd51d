#pragma once
// Loading the JSON test-vector files copied under tests/vectors/.

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "common/bytes.h"
#include "common/hex.h"

namespace armored::testing {

inline nlohmann::json load_vectors(const std::string& relative) {
  const std::string path = std::string(ARMORED_SOURCE_DIR) + "/tests/vectors/" + relative;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

inline Bytes unhex(const std::string& s) {
  auto b = from_hex(s);
  if (!b) throw std::runtime_error("bad hex in vector: " + s);
  return *b;
}

}  // namespace armored::testing
