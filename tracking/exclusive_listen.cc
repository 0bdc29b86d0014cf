#include "tracking/exclusive_listen.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace eonops::tracking {

int BindExclusive(httplib::Server& server, const std::string& host, int port) {
  // The options callback runs on the listening socket before bind; keep its descriptor to
  // widen the accept queue afterwards.
  auto listening = std::make_shared<socket_t>(INVALID_SOCKET);
  server.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
    *listening = sock;
  });
  errno = 0;
  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound >= 0) {
    // Debian's compiled cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG):
    // a controller or load generator that opens 16 connections at once overflows it, and with
    // SYN cookies the kernel then drops or resets some of them (a client sees a read error on
    // its first request). listen() again on a listening socket only resizes its queue.
    if (*listening != INVALID_SOCKET) ::listen(*listening, SOMAXCONN);
    return bound;
  }
  const int err = errno;
  const std::string where = host + ":" + std::to_string(port);
  if (err == EADDRINUSE)
    throw std::runtime_error("cannot listen on " + where +
                             ": the port is in use (another process listens on it)");
  throw std::runtime_error("cannot listen on " + where + ": " +
                           (err ? std::strerror(err) : "not an address of this machine"));
}

}  // namespace eonops::tracking
