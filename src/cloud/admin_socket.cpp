#include "cloud/admin_socket.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/log.h"

namespace armored::cloud {
namespace fs = std::filesystem;
using Local = asio::local::stream_protocol;

namespace {
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// True if something accepts connections on the socket at `path`.
bool socket_is_live(const fs::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell: assume live, refuse to remove it
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  return rc == 0 || (err != ECONNREFUSED && err != ENOENT);
}

Status prepare_path(const fs::path& path) {
  if (path.native().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail("admin socket path " + path.string() + " is longer than " +
                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail(errno_text("cannot inspect " + path.string()));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return fail("admin socket path " + path.string() + " exists and is not a socket; refusing to replace it");
  }
  if (socket_is_live(path)) {
    return fail("admin socket " + path.string() + " is in use (is another armored cloud running?)");
  }
  if (::unlink(path.c_str()) != 0) return fail(errno_text("cannot remove stale socket " + path.string()));
  spdlog::info("cloud: removed stale admin socket {}", path.string());
  return {};
}

}  // namespace

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  Impl(asio::io_context& ctx, AdminSocketOptions o, AdminHandler h)
      : io(ctx), options(std::move(o)), handler(std::move(h)), acceptor(ctx) {}

  struct Client {
    explicit Client(Local::socket s) : sock(std::move(s)) {}
    Local::socket sock;
  };

  asio::io_context& io;
  AdminSocketOptions options;
  AdminHandler handler;
  Local::acceptor acceptor;
  AdminCounters counters;
  std::uint64_t refused_peers = 0;
  std::set<std::shared_ptr<Client>> clients;
  bool closed = false;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Client> c);
};

asio::awaitable<void> AdminServer::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!closed) {
    auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (closed) break;
      continue;
    }
    // Defence in depth behind the 0600 mode: only our own uid may talk.
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
      ++refused_peers;
      asio::error_code ignored;
      sock.close(ignored);
      continue;
    }
    if (clients.size() >= options.max_connections) {
      asio::error_code ignored;
      sock.close(ignored);
      continue;
    }
    ++counters.connections;
    auto c = std::make_shared<Client>(std::move(sock));
    clients.insert(c);
    asio::co_spawn(io, serve(c), asio::detached);
  }
}

asio::awaitable<void> AdminServer::Impl::serve(std::shared_ptr<Client> c) {
  auto self = shared_from_this();
  AdminSession session(options.limits, handler, counters);
  std::array<std::uint8_t, 8192> buf;
  // Closes the socket when the connection is idle too long (slow-loris guard).
  asio::steady_timer idle(io);
  bool timed_out = false;
  auto arm = [&] {
    idle.expires_after(options.idle_timeout);
    idle.async_wait([&timed_out, c](const asio::error_code& ec) {
      if (ec) return;
      timed_out = true;
      asio::error_code ignored;
      c->sock.close(ignored);
    });
  };
  arm();
  while (!closed) {
    auto [ec, n] = co_await c->sock.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) {
      if (timed_out) ++counters.timeouts;
      else session.end_of_input();
      break;
    }
    session.receive(ByteSpan(buf.data(), n));
    if (!session.output().empty()) {
      Bytes out = session.output();
      session.consume_output();
      auto [wec, written] = co_await asio::async_write(c->sock, asio::buffer(out), kNoThrow);
      (void)written;
      if (wec) break;
      arm();  // a completed request restarts the idle clock
    }
    if (session.closing()) break;
  }
  idle.cancel();
  asio::error_code ignored;
  c->sock.shutdown(Local::socket::shutdown_both, ignored);
  c->sock.close(ignored);
  clients.erase(c);
}

AdminServer::AdminServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminServer::~AdminServer() { close(); }

Expected<std::unique_ptr<AdminServer>> AdminServer::open(asio::io_context& io, AdminSocketOptions options,
                                                         AdminHandler handler) {
  ARMORED_TRY(prepare_path(options.path));
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(handler));
  const fs::path& path = impl->options.path;
  asio::error_code ec;
  impl->acceptor.open(Local(), ec);
  // The socket file is created by bind() with 0777 & ~umask: owner-only from
  // the first instant, not chmod-ed afterwards.
  const mode_t old = ::umask(0177);
  if (!ec) impl->acceptor.bind(Local::endpoint(path.string()), ec);
  ::umask(old);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return fail("cannot listen on admin socket " + path.string() + ": " + ec.message());
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) != 0) {
    return fail("admin socket " + path.string() + " is not owner-only after bind");
  }
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

void AdminServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
}

void AdminServer::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  asio::error_code ec;
  impl_->acceptor.close(ec);
  for (const auto& c : impl_->clients) c->sock.close(ec);
  ::unlink(impl_->options.path.c_str());
}

const AdminCounters& AdminServer::counters() const { return impl_->counters; }
std::uint64_t AdminServer::refused_peers() const { return impl_->refused_peers; }

Expected<nlohmann::json> admin_call(const fs::path& path, const nlohmann::json& request,
                                    std::chrono::milliseconds timeout) {
  if (path.native().size() >= sizeof(sockaddr_un{}.sun_path)) return fail("admin socket path too long: " + path.string());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errno_text("socket"));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail(errno_text("cannot reach the cloud's admin socket " + path.string()));
  }
  const Bytes frame = frame_json(request);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    ssize_t n = ::send(fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_text("admin socket write"));
    }
    sent += static_cast<std::size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Bytes received;
  std::array<std::uint8_t, 8192> buf;
  for (;;) {
    std::size_t consumed = 0;
    auto r = parse_admin_response(received, 1u << 20, consumed);
    if (!r) return fail("malformed response from the cloud", r.error());
    if (*r) return std::move(**r);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail("no response from the cloud within the timeout");
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return fail("no response from the cloud within the timeout");
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_text("admin socket read"));
    }
    if (n == 0) return fail("the cloud closed the admin connection without a response");
    received.insert(received.end(), buf.begin(), buf.begin() + n);
  }
}

}  // namespace armored::cloud
