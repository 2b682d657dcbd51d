#include "cloud/internal/admission.h"

#include <algorithm>
#include <cstdint>

namespace armored::cloud {

std::string_view to_string(Admit a) {
  switch (a) {
    case Admit::kAccept: return "accepted";
    case Admit::kEvictThenAccept: return "accepted after evicting a pending handshake";
    case Admit::kRefuseGlobal: return "connection limit (max_connections)";
    case Admit::kRefuseAddress: return "connection limit (max_connections_per_address)";
  }
  return "?";
}

Admission::Admission(AdmissionLimits limits) : limits_(limits) {}

Admit Admission::admit(std::string_view address, std::size_t unauthenticated) {
  auto it = per_address_.find(address);
  const std::size_t from_here = it == per_address_.end() ? 0 : it->second;
  if (from_here >= limits_.max_per_address) return Admit::kRefuseAddress;
  Admit result = Admit::kAccept;
  if (open_ >= limits_.max_connections) {
    if (unauthenticated == 0) return Admit::kRefuseGlobal;
    result = Admit::kEvictThenAccept;  // the evicted one calls release() itself
  }
  if (it == per_address_.end()) it = per_address_.emplace(std::string(address), 0).first;
  ++it->second;
  ++open_;
  return result;
}

void Admission::release(std::string_view address) {
  if (open_ > 0) --open_;
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
}

std::size_t Admission::identity_opened(const std::string& identity) { return ++per_identity_[identity]; }

void Admission::identity_closed(const std::string& identity) {
  auto it = per_identity_.find(identity);
  if (it == per_identity_.end()) return;
  if (--it->second == 0) per_identity_.erase(it);
}

std::chrono::milliseconds Admission::handshake_timeout() const {
  const auto full = limits_.handshake_timeout, low = std::min(limits_.handshake_timeout_min, full);
  const std::size_t half = limits_.max_connections / 2;
  if (open_ <= half || limits_.max_connections <= half) return full;
  // Linear from `full` at half load to `low` at full load.
  const double load = static_cast<double>(open_ - half) / static_cast<double>(limits_.max_connections - half);
  const double span = static_cast<double>((full - low).count());
  const auto ms = full.count() - static_cast<std::int64_t>(span * std::min(load, 1.0));
  return std::chrono::milliseconds(std::max<std::int64_t>(ms, low.count()));
}

}  // namespace armored::cloud
