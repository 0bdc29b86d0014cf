// Every HTTP server of eonops owns its port alone. cpp-httplib's default socket options set
// SO_REUSEPORT, with which a second process started on the same port binds too and the kernel
// splits the connections between two servers that share no state. BindExclusive binds with
// SO_REUSEADDR only (a restart is not refused over connections in TIME_WAIT, but a live listener
// is), so a busy port is an error. It also widens the accept queue from httplib's compiled-in 5
// to SOMAXCONN, so that many clients connecting at once are all accepted.
//
//   httplib::Server http;
//   int port = BindExclusive(http, "127.0.0.1", 8080);  // throws "... 127.0.0.1:8080 ... in use"
#pragma once

#include <string>

namespace httplib {
class Server;
}

namespace eonops::tracking {

// Binds `server` to host:port (port 0: any free port) and returns the port. Throws
// std::runtime_error naming host:port and why (in use by another process, not an address of
// this machine, ...).
int BindExclusive(httplib::Server& server, const std::string& host, int port);

}  // namespace eonops::tracking
