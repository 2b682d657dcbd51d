// The unquoted assignment forms of audit/config_assignments.h, one format
// at a time, and the shapes that must not be read as a value.

#include <gtest/gtest.h>

#include "audit/config_assignments.h"

namespace armored::audit {
namespace {

// name=value pairs as "name=value", in line order.
std::vector<std::string> pairs(std::string_view line) {
  std::vector<std::string> out;
  for (const auto& a : config_assignments(line)) {
    std::string p = a.name + "=" + std::string(a.value);
    // The column must point at the value inside the line.
    EXPECT_EQ(line.substr(a.value_column, a.value.size()), a.value) << line;
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

using V = std::vector<std::string>;

TEST(AuditConfigAssignments, DotenvHashInsideValueIsPartOfIt) {
  EXPECT_EQ(pairs("DB_PASSWORD=Zx8#Lm3!Qw9Ty"), V{"DB_PASSWORD=Zx8#Lm3!Qw9Ty"});
  EXPECT_EQ(pairs("DB_PASSWORD=Zx8;Lm3"), V{"DB_PASSWORD=Zx8;Lm3"});
}

TEST(AuditConfigAssignments, HashAfterWhitespaceStartsAComment) {
  EXPECT_EQ(pairs("DB_PASSWORD=Zx8Lm3 # rotated in May"), V{"DB_PASSWORD=Zx8Lm3"});
  EXPECT_EQ(pairs("password = Zx8Lm3 ; INI comment"), V{"password=Zx8Lm3"});
  EXPECT_TRUE(pairs("# DB_PASSWORD=Zx8Lm3").empty());
}

TEST(AuditConfigAssignments, YamlIniPropertiesAndMakefileOperators) {
  EXPECT_EQ(pairs("  db_password: Zx8#Lm3"), V{"db_password=Zx8#Lm3"});
  EXPECT_EQ(pairs("\"db_password\": Zx8Lm3"), V{"db_password=Zx8Lm3"});
  EXPECT_EQ(pairs("password = Zx8Lm3"), V{"password=Zx8Lm3"});
  EXPECT_EQ(pairs("spring.datasource.password=Zx8Lm3"), V{"spring.datasource.password=Zx8Lm3"});
  EXPECT_EQ(pairs("MQTT_PASS ?= Zx8Lm3"), V{"MQTT_PASS=Zx8Lm3"});
  EXPECT_EQ(pairs("MQTT_PASS := Zx8Lm3"), V{"MQTT_PASS=Zx8Lm3"});
}

TEST(AuditConfigAssignments, SpaceSeparatedCompoundKeys) {
  EXPECT_EQ(pairs("remote_password Zx8#Lm3"), V{"remote_password=Zx8#Lm3"});
  EXPECT_TRUE(pairs("password reset").empty());
  EXPECT_TRUE(pairs("remote_password is set in the bridge section").empty());
}

TEST(AuditConfigAssignments, ShellExportEnvAndFlags) {
  EXPECT_EQ(pairs("export MQTT_PASS=Hq7$Vd2@Lp9Ks"), V{"MQTT_PASS=Hq7$Vd2@Lp9Ks"});
  EXPECT_EQ(pairs("env API_TOKEN=Zx8Lm3 ./uploader --verbose"), V{"API_TOKEN=Zx8Lm3"});
  EXPECT_EQ(pairs("docker run -e DB_PASSWORD='Zx8 Lm3' img"), V{"DB_PASSWORD=Zx8 Lm3"});
  EXPECT_EQ(pairs("uploader --api-token=Zx8Lm3 --host a"), (V{"api-token=Zx8Lm3", "host=a"}));
  EXPECT_EQ(pairs("uploader --password Zx8Lm3"), V{"password=Zx8Lm3"});
  EXPECT_TRUE(pairs("uploader --password --verbose").empty());
  EXPECT_EQ(pairs("uploader --password Zx8Lm3 \\"), V{"password=Zx8Lm3"});
  // Help and error text mentions flags in prose.
  EXPECT_TRUE(pairs("Error: --psk argument given but no key specified.").empty());
  EXPECT_TRUE(pairs("echo done # DB_PASSWORD=Zx8Lm3").empty());
}

TEST(AuditConfigAssignments, DockerfileEnvAndArg) {
  EXPECT_EQ(pairs("ENV DB_USER=app DB_PASSWORD=Zx8Lm3"), (V{"DB_USER=app", "DB_PASSWORD=Zx8Lm3"}));
  EXPECT_EQ(pairs("ARG API_TOKEN=Zx8Lm3"), V{"API_TOKEN=Zx8Lm3"});
  EXPECT_EQ(pairs("ENV DB_PASSWORD Zx8Lm3"), V{"DB_PASSWORD=Zx8Lm3"});
}

TEST(AuditConfigAssignments, SystemdEnvironmentLines) {
  EXPECT_EQ(pairs("Environment=MQTT_PASS=Zx8Lm3"), V{"MQTT_PASS=Zx8Lm3"});
  EXPECT_EQ(pairs("Environment=\"MQTT_PASS=Zx8#Lm3\" \"LOG=debug\""), (V{"MQTT_PASS=Zx8#Lm3", "LOG=debug"}));
}

TEST(AuditConfigAssignments, ComposeListItems) {
  EXPECT_EQ(pairs("      - DB_PASSWORD=Zx8Lm3"), V{"DB_PASSWORD=Zx8Lm3"});
  EXPECT_EQ(pairs("      - \"DB_PASSWORD=Zx8#Lm3\""), V{"DB_PASSWORD=Zx8#Lm3"});
}

TEST(AuditConfigAssignments, ProseTagsAnchorsAndBlockScalarsAreNotValues) {
  EXPECT_TRUE(pairs("password: must be at least 8 characters").empty());
  EXPECT_TRUE(pairs("password: !vault |").empty());
  EXPECT_TRUE(pairs("password: *default_password").empty());
  EXPECT_TRUE(pairs("password: >-").empty());
  EXPECT_TRUE(pairs("password: [a, b]").empty());
  EXPECT_TRUE(pairs("password:").empty());
  // Quoted values are the quoted-literal rule's business, not this form's.
  EXPECT_TRUE(pairs("password: \"Zx8Lm3\"").empty());
}

TEST(AuditConfigAssignments, KubernetesEnvEntryAcrossTwoLines) {
  EnvEntryTracker t;
  EXPECT_TRUE(t.feed("        - name: DB_PASSWORD").name.empty());
  auto a = t.feed("          value: Zx8#Lm3");
  EXPECT_EQ(a.name, "DB_PASSWORD");
  EXPECT_EQ(a.value, "Zx8#Lm3");
  EXPECT_EQ(a.value_column, 17u);
  // Quoted values too, and the entry is used once.
  EXPECT_TRUE(t.feed("  - name: \"API_TOKEN\"").name.empty());
  EXPECT_EQ(t.feed("    value: \"Zx8 Lm3\"").value, "Zx8 Lm3");
  EXPECT_TRUE(t.feed("    value: other").name.empty());
}

TEST(AuditConfigAssignments, KubernetesValueFromAndDistantValuesAreNotEntries) {
  EnvEntryTracker t;
  t.feed("- name: DB_PASSWORD");
  EXPECT_TRUE(t.feed("  valueFrom:").name.empty());
  EXPECT_TRUE(t.feed("  value: Zx8Lm3").name.empty());
  t.feed("- name: DB_PASSWORD");
  t.feed("  # a comment");
  t.feed("  # another");
  EXPECT_TRUE(t.feed("  value: Zx8Lm3").name.empty());
}

TEST(AuditConfigAssignments, OneLineNameValueEntries) {
  // Assembled so that this file does not itself hold an entry.
  const std::string v = std::string("Zx8") + "Lm3";
  std::string json = R"({"name": "DB_PASSWORD", "value": ")" + v + "\"},";
  auto a = name_value_entry(json);
  EXPECT_EQ(a.name, "DB_PASSWORD");
  EXPECT_EQ(a.value, v);
  std::string flow = "- {name: API_TOKEN, value: " + v + "}";
  EXPECT_EQ(name_value_entry(flow).value, v);
  EXPECT_TRUE(name_value_entry(R"({"name": "DB_PASSWORD"})").name.empty());
}

}  // namespace
}  // namespace armored::audit
