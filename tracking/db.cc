#include "tracking/db.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "tracking/errors.h"
#include "tracking/postgres_db.h"
#include "tracking/sqlite_db.h"

namespace eonops::tracking {

bool IsPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string RedactedLocation(const std::string& location) {
  if (!IsPostgresUrl(location)) return location;
  std::string out = location;
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  const size_t scheme = out.find("://") + 3;
  const size_t at = out.find('@', scheme);
  const size_t slash = out.find('/', scheme);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const size_t colon = out.find(':', scheme);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ...?password=secret&...
  for (size_t p = out.find("password="); p != std::string::npos;
       p = out.find("password=", p + 1)) {
    const size_t end = std::min(out.find('&', p), out.size());
    out.replace(p + 9, end - p - 9, "***");
  }
  return out;
}

Statement::~Statement() {
  if (!impl_) return;
  impl_->Reset();
  if (in_use_) {
    *in_use_ = false;
  } else {
    delete impl_;
  }
}

Statement& Statement::Bind(int index, double value) {
  if (std::isnan(value)) {
    impl_->BindNull(index);
  } else {
    impl_->BindDouble(index, value);
  }
  return *this;
}

double Statement::Double(int col) const {
  return IsNull(col) ? std::nan("") : impl_->Double(col);
}

Statement Connection::Prepare(const std::string& sql, bool cache) {
  if (cache) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) it = cache_.emplace(sql, Cached{NewStatement(sql, true), false}).first;
    // A busy slot means a nested use of the same SQL: that one gets a one-off statement.
    if (!it->second.in_use) {
      it->second.in_use = true;
      return Statement(it->second.impl.get(), &it->second.in_use);
    }
  }
  return Statement(NewStatement(sql, false).release(), nullptr);
}

std::unique_ptr<Connection> OpenDatabase(const std::string& location,
                                         const ConnectionOptions& options) {
  if (IsPostgresUrl(location)) return std::make_unique<PostgresConnection>(location, options);
  return std::make_unique<SqliteConnection>(location, options);
}

namespace internal {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void BackoffOrGiveUp(int attempt, int64_t start_ms, const RetryPolicy& policy,
                     const std::string& what) {
  int64_t waited = MonotonicMs() - start_ms;
  if (waited >= policy.max_busy_wait_ms)
    throw TrackingError(ErrorCode::kTemporarilyUnavailable, "the database stayed busy for " +
                                                                std::to_string(waited) +
                                                                " ms; retry later (" + what + ")");
  // Jittered exponential backoff so that retrying writers do not stampede in lockstep.
  thread_local std::mt19937 rng{std::random_device{}()};
  int cap = std::min(200, 2 << std::min(attempt, 7));
  std::uniform_int_distribution<int> jitter(1, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

}  // namespace internal
}  // namespace eonops::tracking
