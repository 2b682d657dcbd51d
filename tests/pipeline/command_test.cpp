// Device commands end to end with real processes: `armored command` -> the
// cloud's admin socket -> E3 seal -> MQTT down topic -> `armored gateway` ->
// a hostile UDP hop (DownlinkTamper) -> `armored fleet`, and the sealed reply
// back. Each case asserts the command's exact outcome and its audit record.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cloud/admin_socket.h"
#include "downlink_tamper.h"
#include "pipeline_fixture.h"

namespace armored::pipeline_test {
namespace {
using namespace std::chrono_literals;
using armored::testing::run;
using armored::testing::slurp;
using nlohmann::json;

class CommandTest : public PipelineTest {
 protected:
  armored::testing::RunResult command(std::vector<std::string> args) {
    std::vector<std::string> a = {"command"};
    a.insert(a.end(), args.begin(), args.end());
    return run(armored(std::move(a)), 60s);
  }
  armored::testing::RunResult send(std::vector<std::string> args) {
    std::vector<std::string> a = {"send", "--device", device_, "--config", (dir() / "cloud.toml").string()};
    a.insert(a.end(), args.begin(), args.end());
    return command(std::move(a));
  }
  // The device's commands, newest first, from `armored --json command status`.
  json status() {
    auto r = run(armored({"--json", "command", "status", "--device", device_, "--config",
                          (dir() / "cloud.toml").string(), "--limit", "100"}),
                 30s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j["commands"] : json::array();
  }
  json command_by_id(std::int64_t id) {
    for (const auto& c : status()) {
      if (c["id"] == id) return c;
    }
    return json();
  }
  // Waits until every command with id >= first has a final status.
  void wait_final(std::int64_t first, std::chrono::seconds timeout = 30s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      bool done = true;
      for (const auto& c : status()) {
        const std::string s = c["status"];
        if (c["id"].get<std::int64_t>() >= first && (s == "sent" || s == "pending")) done = false;
      }
      if (done) return;
      std::this_thread::sleep_for(200ms);
    }
  }
  std::int64_t audit(const std::string& where) {
    return sql_int("SELECT count(*) FROM security_events WHERE kind = 'command_refused' AND " + where);
  }
  std::int64_t sent_id(const armored::testing::RunResult& r) {
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out << r.err;
    return j.is_object() ? j.value("id", std::int64_t{-1}) : -1;
  }

  std::string device_;
};

TEST_F(CommandTest, AcceptedRefusedReplayedAlteredLateAndFlooded) {
  make_pki(1);
  cloud_extra_config_ = "[commands]\nack_timeout_s = 8\n";
  auto cloud = start_cloud();
  auto gw = start_gateway();
  DownlinkTamper tamper(gateway_udp_port_);
  // One reading a second for the whole test; commands must be fresh within 3 s.
  extra_fleet_args_ = {"--command-freshness", "3s"};
  auto fleet = start_fleet(1, 30, 75, tamper.port());
  ASSERT_TRUE(wait_for_stored(2, 30s)) << slurp(dir() / "fleet.err");
  device_ = sql("SELECT DISTINCT device FROM readings LIMIT 1");
  ASSERT_FALSE(device_.empty());

  // 1. Accepted: the device changes its interval and acknowledges.
  auto t0 = std::chrono::steady_clock::now();
  (void)status();  // reference: one CLI run with one admin request
  const auto cli_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  t0 = std::chrono::steady_clock::now();
  auto r = send({"--wait", "20", "set_interval", "seconds=60"});
  const auto round_trip_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "[ figures  ] send --wait until acknowledged: " << round_trip_ms.count()
            << " ms; reference, one `command status` run: " << cli_ms.count() << " ms" << std::endl;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("set_interval to " + device_ + ": acknowledged"), std::string::npos) << r.out;
  auto first = status();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0]["command"], "set_interval");
  EXPECT_EQ(first[0]["status"], "acknowledged");
  EXPECT_EQ(first[0]["params"], json({{"seconds", 60}}));
  EXPECT_NE(first[0]["reason"].get<std::string>().find("60"), std::string::npos) << first[0].dump();
  EXPECT_EQ(audit("1"), 0);

  // 1b. Shell metacharacters and format specifiers are inert data: accepted
  //     by every check, stored and shown verbatim, never interpreted.
  const std::string hostile = "$(reboot);`id`|%s%n{}";
  r = send({"--wait", "20", "set_label", "label=" + hostile});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(status()[0]["params"], json({{"label", hostile}}));
  EXPECT_NE(status()[0]["reason"].get<std::string>().find(hostile), std::string::npos) << status()[0].dump();

  // 2. Refused by the CLI's schema: exit 2, nothing reaches the cloud.
  const auto stored_before = sql_int("SELECT count(*) FROM commands");
  r = send({"set_interval", "seconds=4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("out_of_range"), std::string::npos) << r.err;
  r = send({"reboot; rm -rf /"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(sql_int("SELECT count(*) FROM commands"), stored_before);

  // 3. Refused by the cloud: a CLI with a laxer schema copy gets past its own
  //    check; the cloud's copy refuses, stores and audits.
  std::string lax = slurp(armored::testing::source_path("config/commands.toml"));
  lax.replace(lax.find("min = 5, max = 3600"), 19, "min = 1, max = 99999");
  lax += "\n[wearable.format_disk]\nrate_per_minute = 1\n";
  std::ofstream(dir() / "lax.toml") << lax;
  r = send({"--commands", (dir() / "lax.toml").string(), "format_disk"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("unknown_command"), std::string::npos) << r.err;
  r = send({"--commands", (dir() / "lax.toml").string(), "set_interval", "seconds=3601"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("out_of_range"), std::string::npos) << r.err;
  EXPECT_EQ(audit("peer = 'cloud' AND reason = 'unknown_command'"), 1);
  EXPECT_EQ(audit("peer = 'cloud' AND reason = 'out_of_range'"), 1);
  EXPECT_EQ(status()[0]["status"], "failed");

  // 4. Flood: 10 valid set_alert_threshold (6 per minute): exactly 6
  //    acknowledged, 4 refused rate_limited and audited; the device keeps working.
  // Sent over one admin connection from here so all ten leave within a second.
  std::int64_t flood_first = -1;
  for (int i = 0; i < 10; ++i) {
    auto reply = cloud::admin_call(dir() / "cloud.sock", {{"v", 1},
                                                          {"op", "send"},
                                                          {"device", device_},
                                                          {"command", "set_alert_threshold"},
                                                          {"params", {{"bpm", 100 + i}}}});
    ASSERT_TRUE(reply.has_value()) << reply.error().message;
    ASSERT_EQ((*reply)["ok"], true) << reply->dump();
    if (flood_first < 0) flood_first = (*reply)["id"].get<std::int64_t>();
  }
  wait_final(flood_first);
  int acked = 0, limited = 0;
  for (const auto& c : status()) {
    if (c["id"].get<std::int64_t>() < flood_first) continue;
    if (c["status"] == "acknowledged") ++acked;
    if (c["status"] == "failed" && c["reason"] == "device: rate_limited") ++limited;
  }
  EXPECT_EQ(acked, 6);
  EXPECT_EQ(limited, 4);
  EXPECT_EQ(audit("peer = '" + device_ + "' AND reason = 'rate_limited'"), 4);
  r = send({"--wait", "20", "get_status"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // 5. Replayed by the gateway: the device's E3 window drops the copy; the
  //    command is answered exactly once.
  tamper.set_mode(DownlinkTamper::Mode::kReplay);
  r = send({"--wait", "20", "set_mode", "mode=low_power"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(audit("reason = 'replayed'"), 0);

  // 6. Altered by the gateway (one byte): the device refuses to open it;
  //    no answer comes, the command expires.
  tamper.set_mode(DownlinkTamper::Mode::kFlipByte);
  r = run(armored({"--json", "command", "send", "--device", device_, "--config", (dir() / "cloud.toml").string(),
                   "--wait", "12", "set_mode", "mode=exercise"}),
          30s);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto altered = sent_id(r);
  EXPECT_EQ(command_by_id(altered)["status"], "expired") << r.out;

  // 7. Delivered late: held back past the device's freshness window, then
  //    delivered; E3 opens it (never seen), the device refuses it as stale.
  tamper.set_mode(DownlinkTamper::Mode::kHold);
  r = run(armored({"--json", "command", "send", "--device", device_, "--config", (dir() / "cloud.toml").string(),
                   "set_label", "label=late"}),
          30s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto late = sent_id(r);
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(tamper.release_held(), 1u);
  tamper.set_mode(DownlinkTamper::Mode::kPass);
  wait_final(late);
  EXPECT_EQ(command_by_id(late)["status"], "failed");
  EXPECT_EQ(command_by_id(late)["reason"], "device: stale");
  EXPECT_EQ(audit("peer = '" + device_ + "' AND reason = 'stale'"), 1);

  std::cout << "[ figures  ] audit: " << sql("SELECT reason || ' by ' || peer || ': ' || count(*) FROM security_events "
                                             "WHERE kind = 'command_refused' GROUP BY reason, peer")
            << std::endl;
  std::cout << "[ figures  ] commands: " << sql("SELECT status || ' ' || count(*) FROM commands GROUP BY status")
            << std::endl;
  std::cout << "[ figures  ] downlink datagrams through the hostile hop: " << tamper.downlinks() << std::endl;

  // Every command the gateway relayed passed the hostile hop once.
  EXPECT_EQ(tamper.downlinks(), 16u);
  auto run_result = finish_fleet(*fleet);
  EXPECT_EQ(run_result.exit_code, 0);
  auto summary = json::parse(slurp(dir() / "fleet.json"), nullptr, false);
  ASSERT_TRUE(summary.is_object()) << slurp(dir() / "fleet.json");
  const json& dev = summary["commands"];
  std::cout << "[ figures  ] device commands: " << dev.dump() << std::endl;
  // Opened: 2 + 10 flood + get_status + replayed original + late = 15;
  // accepted 2 + 6 + 1 + 1 = 10; refused 4 rate_limited + 1 stale; not
  // opened by E3: the replayed copy and the altered one.
  EXPECT_EQ(dev.value("received", -1), 15);
  EXPECT_EQ(dev.value("accepted", -1), 10);
  EXPECT_EQ(dev.value("refused", -1), 5);
  EXPECT_EQ(dev["refusal_reasons"], json({{"rate_limited", 4}, {"stale", 1}}));
  EXPECT_EQ(dev.value("unopened", -1), 2);
  EXPECT_EQ(sql_int("SELECT count(*) FROM commands WHERE status = 'acknowledged'"), 10);
  // Every answer (10 accepted, 5 refused) took one of its device's sequence
  // numbers: stored once each, and not counted as readings missing.
  EXPECT_EQ(sql_int("SELECT count(*) FROM command_replies"), 15);
  ASSERT_TRUE(wait_for_stored(run_result.readings));
  const GapReport gaps = gap_report();
  EXPECT_EQ(gaps.exit_code, 0);
  EXPECT_EQ(gaps.missing, 0);
  gw->stop();
  EXPECT_NE(slurp(dir() / "gateway1.out").find("16 commands relayed to devices, 0 for unknown devices"),
            std::string::npos)
      << slurp(dir() / "gateway1.out");
  stop_cloud(cloud);
}

// The downlink sequence numbers survive a crash: the reservation is on disk
// before a number is used, so after SIGKILL and restart the cloud never seals
// two commands under one number (the device would drop the second as a
// replay). The stale admin socket the crash left is replaced.
TEST_F(CommandTest, CommandsAfterCloudCrashAreStillAccepted) {
  make_pki(1);
  auto cloud = start_cloud();
  auto gw = start_gateway();
  auto fleet = start_fleet(1, 30, 40, gateway_udp_port_);
  ASSERT_TRUE(wait_for_stored(2, 30s)) << slurp(dir() / "fleet.err");
  device_ = sql("SELECT DISTINCT device FROM readings LIMIT 1");
  struct stat st{};
  ASSERT_EQ(::stat((dir() / "cloud.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto r = send({"--wait", "20", "set_interval", "seconds=30"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  cloud->signal(SIGKILL);
  cloud->wait(5s);
  EXPECT_TRUE(std::filesystem::exists(dir() / "cloud.sock"));  // left behind
  const auto before = sql_int("SELECT count(*) FROM readings");
  cloud = start_cloud();
  // The route is learned again from the device's next reading.
  ASSERT_TRUE(wait_for_stored(before + 3, 30s));
  r = send({"--wait", "20", "set_alert_threshold", "bpm=150"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("acknowledged"), std::string::npos) << r.out;

  auto run_result = finish_fleet(*fleet);
  EXPECT_EQ(run_result.exit_code, 0);
  auto summary = json::parse(slurp(dir() / "fleet.json"), nullptr, false);
  ASSERT_TRUE(summary.is_object());
  std::cout << "[ figures  ] device commands: " << summary["commands"].dump() << std::endl;
  EXPECT_EQ(summary["commands"].value("accepted", -1), 2);
  EXPECT_EQ(summary["commands"].value("unopened", -1), 0);
  stop_cloud(cloud);
}

// The admin socket's path is never taken over: a regular file there stops
// the cloud at start-up (exit 1 like a busy port, one line naming the
// path), and the file is left untouched.
TEST_F(CommandTest, CloudRefusesToReplaceAFileAtTheSocketPath) {
  make_pki(1);
  write_cloud_config();
  std::ofstream(dir() / "cloud.sock") << "not a socket";
  auto r = run(armored({"cloud", "--config", (dir() / "cloud.toml").string()}), 30s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cloud.sock exists and is not a socket"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir() / "cloud.sock"), "not a socket");
}

}  // namespace
}  // namespace armored::pipeline_test
