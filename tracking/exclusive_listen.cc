#include "tracking/exclusive_listen.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace eonops::tracking {

int BindExclusive(httplib::Server& server, const std::string& host, int port) {
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  errno = 0;
  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound >= 0) return bound;
  const int err = errno;
  const std::string where = host + ":" + std::to_string(port);
  if (err == EADDRINUSE)
    throw std::runtime_error("cannot listen on " + where +
                             ": the port is in use (another process listens on it)");
  throw std::runtime_error("cannot listen on " + where + ": " +
                           (err ? std::strerror(err) : "not an address of this machine"));
}

}  // namespace eonops::tracking
