// The scaled cloud's log against real nats-server processes: one node, and
// a three-node JetStream cluster with a node killed under load.
#include "jetstream/jetstream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/nats_cluster.h"

namespace armored::jetstream {
namespace {

using armored::testing::NatsCluster;
using armored::testing::TempDir;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Options options_for(const NatsCluster& c, std::string name) {
  Options o;
  o.servers = c.urls();
  o.name = std::move(name);
  o.replicas = c.size() >= 3 ? 3 : 1;
  o.request_timeout = std::chrono::milliseconds(3000);
  o.ack_wait = std::chrono::seconds(2);
  return o;
}

// Waits for a publish's outcome.
Status publish_sync(Publisher& p, std::string_view suffix, std::string_view id, ByteSpan data,
                    const std::vector<Header>& headers = {}) {
  auto done = std::make_shared<std::promise<Status>>();
  auto f = done->get_future();
  ARMORED_TRY(p.publish(suffix, id, headers, data, [done](Status s) { done->set_value(std::move(s)); }));
  if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return fail("no outcome in 10 s");
  return f.get();
}

#define REQUIRE_CLUSTER(c)                                     \
  do {                                                         \
    if (!(c).error().empty()) GTEST_FAIL() << (c).error();     \
  } while (0)

TEST(JetStream, OptionsAreCheckedBeforeConnecting) {
  Options o;
  EXPECT_FALSE(validate(o));  // no servers
  o.servers = {"127.0.0.1:4222"};
  auto v = validate(o);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("not a nats:// or tls:// URL"), std::string::npos);
  EXPECT_EQ(v.error().kind, ErrorKind::kBadInput);
  o.servers = {"nats://127.0.0.1:4222"};
  EXPECT_TRUE(validate(o));
  o.stream = "has space";
  EXPECT_FALSE(validate(o));
  o.stream = "ARMORED_INGEST";
  o.subject = "armored..ingest";
  EXPECT_FALSE(validate(o));
  o.subject = "armored.ingest";
  o.replicas = 7;
  EXPECT_FALSE(validate(o));
  o.replicas = 3;
  o.cert_file = "cert.pem";
  EXPECT_FALSE(validate(o));
}

TEST(JetStream, UnreachableServersAreAnErrorNotAHang) {
  Options o;
  o.servers = {"nats://127.0.0.1:" + std::to_string(armored::testing::free_tcp_port())};
  o.connect_patience = std::chrono::milliseconds(1500);
  auto f = std::async(std::launch::async, [&] { return Publisher::connect(o); });
  ASSERT_EQ(f.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  auto p = f.get();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "unreachable");
}

TEST(JetStream, PublishedOnceFetchedAckedGone) {
  TempDir dir;
  NatsCluster cluster(dir, 1);
  REQUIRE_CLUSTER(cluster);
  auto pub = Publisher::connect(options_for(cluster, "front"));
  ASSERT_TRUE(pub) << pub.error().message;
  auto con = Consumer::connect(options_for(cluster, "worker"));
  ASSERT_TRUE(con) << con.error().message;
  const Bytes payload = bytes_of("batch-1");
  ASSERT_TRUE(publish_sync(**pub, "gw1", "id-1", payload, {{"Armored-Peer", "gw1"}}));
  auto got = (*con)->fetch(10, std::chrono::seconds(2));
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  auto& d = *(*got)[0];
  EXPECT_EQ(Bytes(d.data().begin(), d.data().end()), payload);
  EXPECT_EQ(d.header("Armored-Peer"), "gw1");
  EXPECT_EQ(d.header("Armored-Missing"), std::nullopt);
  EXPECT_EQ(d.times_delivered(), 1u);
  ASSERT_TRUE(d.ack());
  // Acknowledged: gone from the work queue, never delivered again.
  auto again = (*con)->fetch(10, std::chrono::milliseconds(2500));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
  EXPECT_EQ((*pub)->stats().published, 1u);
  EXPECT_TRUE((*pub)->stats().connected);
}

// A front re-sending after a lost acknowledgement uses the same id: the
// stream keeps one copy.
TEST(JetStream, SameIdWithinTheWindowIsStoredOnce) {
  TempDir dir;
  NatsCluster cluster(dir, 1);
  REQUIRE_CLUSTER(cluster);
  auto pub = Publisher::connect(options_for(cluster, "front"));
  ASSERT_TRUE(pub) << pub.error().message;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(publish_sync(**pub, "gw1", "same-id", bytes_of("x")));
  ASSERT_TRUE(publish_sync(**pub, "gw1", "other-id", bytes_of("y")));
  auto con = Consumer::connect(options_for(cluster, "worker"));
  ASSERT_TRUE(con);
  auto got = (*con)->fetch(10, std::chrono::seconds(2));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 2u);
  for (auto& d : *got) ASSERT_TRUE(d->ack());
}

// Not acknowledged (a worker killed mid-batch) or refused for now: the
// message comes back, counted.
TEST(JetStream, UnacknowledgedComesBackAndNakWaitsItsDelay) {
  TempDir dir;
  NatsCluster cluster(dir, 1);
  REQUIRE_CLUSTER(cluster);
  auto pub = Publisher::connect(options_for(cluster, "front"));
  ASSERT_TRUE(pub);
  auto con = Consumer::connect(options_for(cluster, "worker"));
  ASSERT_TRUE(con);
  ASSERT_TRUE(publish_sync(**pub, "gw1", "a", bytes_of("a")));
  {
    auto got = (*con)->fetch(1, std::chrono::seconds(2));
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 1u);
  }  // dropped without an ack
  auto back = (*con)->fetch(1, std::chrono::seconds(5));  // after ack_wait (2 s)
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0]->times_delivered(), 2u);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*back)[0]->nak(std::chrono::milliseconds(800)));
  auto third = (*con)->fetch(1, std::chrono::seconds(5));
  ASSERT_TRUE(third);
  ASSERT_EQ(third->size(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(700));
  EXPECT_EQ((*third)[0]->times_delivered(), 3u);
  ASSERT_TRUE((*third)[0]->ack());
}

// Plain subjects between the roles (commands, replies): every subscriber
// gets each message with its headers; nothing is kept for later.
TEST(JetStream, BusDeliversToEverySubscriberWithHeaders) {
  TempDir dir;
  NatsCluster cluster(dir, 1);
  REQUIRE_CLUSTER(cluster);
  auto a = Bus::connect(options_for(cluster, "front-a"));
  auto b = Bus::connect(options_for(cluster, "front-b"));
  ASSERT_TRUE(a && b);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  for (auto* bus : {&*a, &*b}) {
    ASSERT_TRUE((*bus)->subscribe("armored.test.down", [&](const Bus::Message& m) {
      std::lock_guard lk(mu);
      got.push_back(m.header("Armored-Device").value_or("?") + "=" + std::string(m.data.begin(), m.data.end()));
      cv.notify_all();
    }));
  }
  // The subscriptions reach the server before the publish (same connection order).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE((*a)->publish("armored.test.down", {{"Armored-Device", "wearable-7"}}, bytes_of("sealed")));
  std::unique_lock lk(mu);
  ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(5), [&] { return got.size() == 2; })) << got.size();
  EXPECT_EQ(got[0], "wearable-7=sealed");
  EXPECT_EQ(got[1], "wearable-7=sealed");
}

// Three nodes, three replicas: a node killed while publishing. Every publish
// the client saw confirmed is delivered; failed ones are retried with their
// id until confirmed; each id is delivered exactly once.
TEST(JetStream, ClusterKeepsEveryConfirmedMessageWhenANodeIsKilled) {
  TempDir dir;
  NatsCluster cluster(dir, 3);
  REQUIRE_CLUSTER(cluster);
  auto pub = Publisher::connect(options_for(cluster, "front"));
  ASSERT_TRUE(pub) << pub.error().message;
  constexpr int kMessages = 3000;
  std::mutex mu;
  std::condition_variable cv;
  std::set<int> confirmed;
  std::atomic<int> failures{0};
  std::function<void(int)> send = [&](int i) {
    const std::string id = "m-" + std::to_string(i);
    auto st = (*pub)->publish("gw" + std::to_string(i % 4), id, {}, bytes_of(id), [&, i](Status s) {
      if (s) {
        std::lock_guard lk(mu);
        confirmed.insert(i);
        cv.notify_all();
      } else {
        ++failures;
        std::thread([&send, i] {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          send(i);
        }).detach();
      }
    });
    if (!st) {
      ++failures;
      std::thread([&send, i] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        send(i);
      }).detach();
    }
  };
  for (int i = 0; i < kMessages; ++i) {
    send(i);
    if (i == kMessages / 3) cluster.kill(0);  // the node the client most likely uses
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return confirmed.size() == kMessages; }))
        << confirmed.size() << " of " << kMessages << " confirmed, " << failures.load() << " failed attempts";
  }
  auto con = Consumer::connect(options_for(cluster, "worker"));
  ASSERT_TRUE(con) << con.error().message;
  std::map<std::string, int> seen;
  for (int rounds = 0; rounds < 100 && seen.size() < kMessages; ++rounds) {
    auto got = (*con)->fetch(500, std::chrono::seconds(2));
    ASSERT_TRUE(got) << got.error().message;
    for (auto& d : *got) {
      ++seen[std::string(d->data().begin(), d->data().end())];
      ASSERT_TRUE(d->ack());
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kMessages));
  int duplicated = 0;
  for (const auto& [id, n] : seen) duplicated += n > 1;
  EXPECT_EQ(duplicated, 0);
  std::printf("[ fault    ] JetStream node killed | sent %d | stored %zu | lost %zu | duplicated %d | retried %d\n",
              kMessages, seen.size(), kMessages - seen.size(), duplicated, failures.load());
}

}  // namespace
}  // namespace armored::jetstream
