// Helpers for the tracking tests: temporary directories, a store plus server on an ephemeral
// loopback port (on SQLite or PostgreSQL: the fixture is parameterised by Backend), and
// JSON-speaking HTTP calls.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/tracking/postgres_server.h"
#include "tracking/errors.h"
#include "tracking/server.h"
#include "tracking/store.h"

namespace eonops::tracking::testing {

using Json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "eonops-tracking-XXXXXX").string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The code of the TrackingError `fn` throws (a test failure when it throws none).
inline ErrorCode CodeOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const TrackingError& e) {
    return e.code();
  }
  ADD_FAILURE() << "no TrackingError thrown";
  return ErrorCode::kInternalError;
}

inline StoreOptions OptionsIn(const TempDir& dir) {
  StoreOptions o;
  o.db_path = dir / "tracking.db";
  o.artifact_root = dir / "artifacts";
  return o;
}

// "sqlite" / "postgres", for parameterised test names.
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}
inline const auto kBothBackends = ::testing::Values(Backend::kSqlite, Backend::kPostgres);

// A test run once per engine (instantiate with kBothBackends): a fresh, empty database of the
// parameter's engine in db_, artifacts in dir_; the PostgreSQL half skips, visibly, when
// PostgreSQL is not installed.
class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    EONOPS_SKIP_UNLESS_BACKEND(GetParam());
    db_ = std::make_unique<TestDatabase>(GetParam(), dir_.path());
  }
  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;
};

// An HTTP response decoded as JSON (null when the body is not JSON).
struct Reply {
  int status = 0;
  Json body;
  std::string text;
};

inline Reply ToReply(const httplib::Result& r) {
  Reply out;
  if (!r) {
    ADD_FAILURE() << "HTTP request failed: " << httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.text = r->body;
  out.body = Json::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

// A store (SQLite file or PostgreSQL database, by the test's parameter) served on an
// ephemeral loopback port. Instantiate a suite with kBothBackends.
class ServerFixture : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (!IsSkipped()) StartServer("");
  }

  // (Re)starts the server on the test's database.
  void StartServer(const std::string& token_file) {
    server_.reset();
    store_.reset();
    store_ = std::make_unique<TrackingStore>(db_->Options());
    ServerOptions so;
    so.port = 0;
    so.token_file = token_file;
    server_ = std::make_unique<TrackingServer>(*store_, so);
    port_ = server_->Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(30, 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  Reply Post(const std::string& path, const Json& body, const httplib::Headers& headers = {}) {
    return ToReply(client_->Post(path.c_str(), headers, body.dump(), "application/json"));
  }
  Reply PostRaw(const std::string& path, const std::string& body,
                const httplib::Headers& headers = {}) {
    return ToReply(client_->Post(path.c_str(), headers, body, "application/json"));
  }
  Reply Get(const std::string& path, const httplib::Params& params = {},
            const httplib::Headers& headers = {}) {
    return ToReply(client_->Get(path.c_str(), params, headers));
  }
  Reply Delete(const std::string& path, const Json& body, const httplib::Headers& headers = {}) {
    return ToReply(client_->Delete(path.c_str(), headers, body.dump(), "application/json"));
  }

  // Asserts MLflow's error shape: the status, {"error_code": code, "message": non-empty}.
  static void ExpectError(const Reply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.text;
    ASSERT_TRUE(r.body.is_object()) << r.text;
    EXPECT_EQ(r.body.value("error_code", ""), code) << r.text;
    EXPECT_FALSE(r.body.value("message", "").empty()) << r.text;
  }

  static std::string Api(const std::string& endpoint) { return "/api/2.0/mlflow/" + endpoint; }

  std::unique_ptr<TrackingStore> store_;
  std::unique_ptr<TrackingServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

}  // namespace eonops::tracking::testing
