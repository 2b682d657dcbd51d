#include "dashboard/dashboard.h"

#include <openssl/crypto.h>

#include <charconv>

#include "common/file_io.h"
#include "common/file_mode.h"
#include "common/hex.h"
#include "common/rng.h"
#include "dashboard/internal/assets.h"

namespace armored::dashboard {

namespace {

http::Response json_response(int status, const nlohmann::json& body) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

http::Response error_response(int status, std::string message) {
  return json_response(status, nlohmann::json{{"error", std::move(message)}});
}

// A whole number from the query string within [min, max], or the default
// when absent; nullopt when present and not such a number.
std::optional<std::int64_t> query_number(const http::Request& r, const std::string& name, std::int64_t dflt,
                                         std::int64_t min, std::int64_t max) {
  auto it = r.query.find(name);
  if (it == r.query.end() || it->second.empty()) return dflt;
  std::int64_t v = 0;
  const auto* end = it->second.data() + it->second.size();
  auto [p, ec] = std::from_chars(it->second.data(), end, v);
  if (ec != std::errc() || p != end || v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace

bool token_matches(std::string_view given, std::string_view token) {
  if (token.empty() || given.size() != token.size()) return false;  // the length is not secret
  return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

Expected<std::string> load_or_create_token(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    Bytes raw(32);
    SystemRng().fill(raw);
    const std::string token = to_hex(raw);
    std::string text = token + "\n";
    ARMORED_TRY(write_file_exclusive(path, ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())));
    return token;
  }
  ARMORED_TRY(check_private_file(path, ExposedFilePolicy::kRefuse, "dashboard token"));
  auto text = read_text_file(path, 1024);
  if (!text) return unexpected(text.error());
  std::string token = *text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.size() != 64 || !from_hex(token)) {
    return fail(path.string() + ": not a dashboard token (64 hex digits); delete it to have a new one made");
  }
  return token;
}

Dashboard::Dashboard(Source& source, Options options) : source_(source), options_(std::move(options)) {}

bool Dashboard::throttled(Clock::TimePoint now) {
  while (!auth_failures_.empty() && now - auth_failures_.front() >= std::chrono::minutes(1)) auth_failures_.pop_front();
  return auth_failures_.size() >= options_.max_auth_failures_per_minute;
}

http::Response Dashboard::handle(const http::Request& request, std::string_view peer, Clock::TimePoint now) {
  ++counters_.requests;
  const std::string& path = request.path;
  if (path.rfind("/api/", 0) != 0) {
    const Asset* a = find_asset(path == "/" ? "/index.html" : path);
    if (!a) {
      ++counters_.not_found;
      return error_response(404, "no such page");
    }
    http::Response r;
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->body);
    return r;
  }
  ++counters_.api_requests;
  if (throttled(now)) {
    ++counters_.throttled;
    auto r = error_response(429, "too many refused tokens in the last minute; try again later");
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }
  const std::string auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  const bool has_bearer = auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0;
  if (!has_bearer || !token_matches(std::string_view(auth).substr(kBearer.size()), options_.token)) {
    ++counters_.unauthorized;
    auth_failures_.push_back(now);
    source_.record_auth_failure(peer, has_bearer ? "dashboard token refused" : "dashboard request without a token");
    auto r = error_response(401, "a dashboard token is required (Authorization: Bearer, from the cloud's"
                                 " dashboard.token file)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"armored\"");
    return r;
  }
  return api(request);
}

http::Response Dashboard::api(const http::Request& r) {
  const std::string& path = r.path;
  auto rows = [&] { return query_number(r, "limit", 100, 1, static_cast<std::int64_t>(options_.max_rows)); };
  auto from = [&](Expected<nlohmann::json> j) {
    if (!j) {
      ++counters_.errors;
      return error_response(503, j.error().message);
    }
    return json_response(200, *j);
  };
  if (path == "/api/overview") return json_response(200, source_.overview());
  if (path == "/api/series") return series();
  if (path == "/api/devices") {
    DevicePageRequest q;
    auto page = query_number(r, "page", 1, 1, 1'000'000'000);
    auto per_page = query_number(r, "per_page", 50, 1, 200);
    auto inactive = query_number(r, "inactive_s", 0, 0, 10LL * 365 * 86400);
    if (!page || !per_page || !inactive) return error_response(400, "page, per_page (1-200) and inactive_s must be whole numbers in range");
    if (auto q_it = r.query.find("q"); q_it != r.query.end()) q.search = q_it->second.substr(0, 128);
    q.page = static_cast<std::size_t>(*page);
    q.per_page = static_cast<std::size_t>(*per_page);
    q.inactive_s = *inactive;
    return from(source_.devices(q));
  }
  for (const auto& [route, fetch] :
       {std::pair<const char*, Expected<nlohmann::json> (Source::*)(std::size_t)>{"/api/gaps", &Source::gaps},
        {"/api/events", &Source::events},
        {"/api/commands", &Source::commands}}) {
    if (path != route) continue;
    auto limit = rows();
    if (!limit) return error_response(400, "limit must be a whole number from 1 to " + std::to_string(options_.max_rows));
    return from((source_.*fetch)(static_cast<std::size_t>(*limit)));
  }
  ++counters_.not_found;
  return error_response(404, "no such view");
}

void Dashboard::sample(Clock::TimePoint now) {
  history_.push_back(Sample{unix_ms(now), source_.rate_counters()});
  while (history_.size() > options_.history_samples) history_.pop_front();
}

http::Response Dashboard::series() const {
  // Per-second rates between consecutive samples, for uPlot: one x array
  // (unix seconds) and one y array per counter, null where undefined.
  nlohmann::json t = nlohmann::json::array();
  std::map<std::string, nlohmann::json> rates;
  for (std::size_t i = 1; i < history_.size(); ++i) {
    const auto& a = history_[i - 1];
    const auto& b = history_[i];
    const double secs = static_cast<double>(b.at_ms - a.at_ms) / 1000.0;
    t.push_back(static_cast<double>(b.at_ms) / 1000.0);
    for (const auto& [name, value] : b.values) {
      auto& ys = rates[name];
      if (ys.is_null()) ys = nlohmann::json::array();
      while (ys.size() + 1 < t.size()) ys.push_back(nullptr);  // a counter that appeared later
      auto prev = a.values.find(name);
      if (prev == a.values.end() || secs <= 0 || value < prev->second) {
        ys.push_back(nullptr);  // new, or reset by a restart
      } else {
        ys.push_back((value - prev->second) / secs);
      }
    }
  }
  nlohmann::json out{{"t", t}, {"rates", nlohmann::json::object()}};
  for (auto& [name, ys] : rates) {
    while (ys.size() < t.size()) ys.push_back(nullptr);
    out["rates"][name] = std::move(ys);
  }
  return json_response(200, out);
}

}  // namespace armored::dashboard
