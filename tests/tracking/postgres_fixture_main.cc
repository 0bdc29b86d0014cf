// The ctest fixture around the tracking suite: `start STATE` brings up one PostgreSQL server
// for all tracking tests and writes where it is to STATE; `stop STATE` stops it. Without
// PostgreSQL installed, `start` says so and writes "absent", and the tests skip their
// PostgreSQL half with that message.
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>

#include "tests/tracking/postgres_server.h"

int main(int argc, char** argv) {
  using eonops::tracking::testing::PostgresServer;
  if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
    std::fprintf(stderr, "usage: %s start|stop STATE_FILE\n", argv[0]);
    return 2;
  }
  const char* state = argv[2];
  try {
    // A server left behind by an interrupted run is stopped first.
    PostgresServer::StopDetached(state);
    if (std::strcmp(argv[1], "stop") == 0) return 0;
    if (eonops::tracking::testing::PostgresBinDir().empty()) {
      std::ofstream(state) << "absent\n";
      std::printf("%s\n", eonops::tracking::testing::PostgresMissingMessage().c_str());
      return 0;
    }
    auto server = PostgresServer::Start();
    server->Detach(state);
    std::printf("PostgreSQL (%s) for the tracking tests on 127.0.0.1:%d\n",
                eonops::tracking::testing::PostgresBinDir().c_str(), server->port());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
