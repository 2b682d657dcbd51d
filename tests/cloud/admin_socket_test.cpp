// The admin socket with a real Unix domain socket: permissions, stale and
// foreign paths, and a client that sends malformed, truncated and slow input.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include "cloud/admin_socket.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int connect_to(const fs::path& p) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, p.c_str(), p.native().size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until EOF (or 5 s); returns everything received.
Bytes read_all(int fd) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  Bytes out;
  std::uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

// An admin server on its own io thread, answering every request with its op.
class AdminSocketTest : public ::testing::Test {
 protected:
  void start(AdminSocketOptions o = {}) {
    if (o.path.empty()) o.path = tmp_ / "run" / "cloud.sock";
    path_ = o.path;
    auto s = AdminServer::open(io_, o, [](const AdminRequest& r) {
      return admin_ok({{"op", r.op == AdminRequest::Op::kSend ? "send" : "status"}, {"device", r.device}});
    });
    ASSERT_TRUE(s.has_value()) << s.error().message;
    server_ = std::move(*s);
    server_->start();
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) {
      asio::post(io_, [this] { server_->close(); });
      guard_.reset();
      thread_.join();
    }
  }
  // Counters are read on the io thread (where they change).
  AdminCounters counters() {
    std::promise<AdminCounters> p;
    asio::post(io_, [&] { p.set_value(server_->counters()); });
    return p.get_future().get();
  }

  armored::testing::TempDir tmp_;
  fs::path path_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
};

TEST_F(AdminSocketTest, SocketIsOwnerOnlyInOwnerOnlyDirectory) {
  start();
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path_.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(AdminSocketTest, RequestAndResponse) {
  start();
  auto r = admin_call(path_, {{"v", 1}, {"op", "status"}, {"device", "wearable-0001"}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)["ok"], true);
  EXPECT_EQ((*r)["device"], "wearable-0001");
  EXPECT_EQ(counters().succeeded, 1u);
}

TEST_F(AdminSocketTest, MalformedRequestGetsTypedError) {
  start();
  auto r = admin_call(path_, {{"v", 1}, {"op", "format_disk"}, {"device", "d"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"], "unknown_op");
  EXPECT_EQ(counters().errors_for(AdminErrc::kUnknownOp), 1u);
}

TEST_F(AdminSocketTest, OversizedFrameIsRefusedAndConnectionClosed) {
  AdminSocketOptions o;
  o.limits.max_request_bytes = 1024;
  start(o);
  int fd = connect_to(path_);
  ASSERT_GE(fd, 0);
  const std::uint8_t hdr[4] = {0x7f, 0xff, 0xff, 0xff};  // 2 GiB announced
  ASSERT_EQ(::send(fd, hdr, 4, MSG_NOSIGNAL), 4);
  Bytes got = read_all(fd);  // EOF proves the server closed
  ::close(fd);
  std::size_t used = 0;
  auto r = parse_admin_response(got, 1 << 20, used);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((**r)["error"], "oversized");
  EXPECT_EQ(used, got.size());
  EXPECT_EQ(counters().errors_for(AdminErrc::kOversized), 1u);
}

TEST_F(AdminSocketTest, TruncatedRequestIsCountedAndNotHandled) {
  start();
  int fd = connect_to(path_);
  ASSERT_GE(fd, 0);
  const std::uint8_t part[] = {0, 0, 0, 40, '{', '"', 'v', '"'};
  ASSERT_EQ(::send(fd, part, sizeof part, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof part));
  ::shutdown(fd, SHUT_WR);
  Bytes got = read_all(fd);
  ::close(fd);
  EXPECT_TRUE(got.empty());
  for (int i = 0; i < 100 && counters().truncated == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(counters().truncated, 1u);
  EXPECT_EQ(counters().requests, 0u);
}

TEST_F(AdminSocketTest, IdleConnectionIsClosed) {
  AdminSocketOptions o;
  o.idle_timeout = std::chrono::milliseconds(200);
  start(o);
  int fd = connect_to(path_);
  ASSERT_GE(fd, 0);
  const std::uint8_t part[] = {0, 0, 0, 10, '{'};  // a slow client never finishes
  ASSERT_EQ(::send(fd, part, sizeof part, MSG_NOSIGNAL), 5);
  auto t0 = std::chrono::steady_clock::now();
  Bytes got = read_all(fd);
  ::close(fd);
  EXPECT_TRUE(got.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  for (int i = 0; i < 100 && counters().timeouts == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(counters().timeouts, 1u);
}

TEST_F(AdminSocketTest, StaleSocketIsReplaced) {
  fs::create_directories(tmp_ / "run");
  const fs::path p = tmp_ / "run" / "cloud.sock";
  {
    // A socket file nobody listens on: what a crashed cloud leaves.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, p.c_str(), p.native().size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(fd);
  }
  AdminSocketOptions o;
  o.path = p;
  start(o);
  auto r = admin_call(p, {{"v", 1}, {"op", "status"}, {"device", "d"}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(AdminSocketPath, RefusesRegularFileDirectoryAndLiveSocket) {
  armored::testing::TempDir tmp;
  asio::io_context io;
  auto handler = [](const AdminRequest&) { return admin_ok({}); };
  const fs::path file = tmp / "cloud.sock";
  std::ofstream(file) << "precious";
  AdminSocketOptions o;
  o.path = file;
  auto a = AdminServer::open(io, o, handler);
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message.find("not a socket"), std::string::npos) << a.error().message;
  EXPECT_EQ(armored::testing::slurp(file), "precious");

  fs::create_directory(tmp / "dir.sock");
  o.path = tmp / "dir.sock";
  EXPECT_FALSE(AdminServer::open(io, o, handler).has_value());

  o.path = tmp / "live.sock";
  auto first = AdminServer::open(io, o, handler);
  ASSERT_TRUE(first.has_value());
  auto second = AdminServer::open(io, o, handler);
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;

  o.path = tmp / std::string(120, 'x');
  EXPECT_FALSE(AdminServer::open(io, o, handler).has_value());
}

TEST(AdminClient, NoServerIsAClearError) {
  armored::testing::TempDir tmp;
  auto r = admin_call(tmp / "none.sock", {{"v", 1}});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("cannot reach"), std::string::npos);
}

}  // namespace
}  // namespace armored::cloud
