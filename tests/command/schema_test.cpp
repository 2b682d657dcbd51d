// The shipped schema, and the malformed-schema matrix: each broken file is
// refused with an error naming the line and what is wrong.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "command/schema.h"
#include "common/file_io.h"
#include "support/process.h"

namespace armored::command {
namespace {

TEST(Schema, ShippedFileLoadsAndIsTheBuiltInCopy) {
  auto s = Schema::load(std::string(ARMORED_SOURCE_DIR) + "/config/commands.toml");
  ASSERT_TRUE(s) << s.error().message;
  auto text = testing::slurp(std::string(ARMORED_SOURCE_DIR) + "/config/commands.toml");
  EXPECT_EQ(Schema::builtin_text(), text);
  EXPECT_EQ(s->default_device_type(), "wearable");
  ASSERT_EQ(s->device_types().size(), 2u);
  const DeviceType* w = s->device_type("wearable");
  ASSERT_NE(w, nullptr);
  for (const char* c : {"get_status", "set_interval", "set_alert_threshold", "rotate_keys", "reboot"}) {
    EXPECT_NE(w->find(c), nullptr) << c;
  }
  const ParamSpec* seconds = w->find("set_interval")->find("seconds");
  ASSERT_NE(seconds, nullptr);
  EXPECT_EQ(seconds->type, ParamType::kInt);
  EXPECT_EQ(seconds->int_min, 5);
  EXPECT_EQ(seconds->int_max, 3600);
  EXPECT_TRUE(seconds->required);
  const ParamSpec* bpm = w->find("set_alert_threshold")->find("bpm");
  ASSERT_NE(bpm, nullptr);
  EXPECT_EQ(bpm->int_min, 40);
  EXPECT_EQ(bpm->int_max, 200);
  EXPECT_FALSE(w->find("reboot")->find("delay_s")->required);
  EXPECT_EQ(w->find("set_interval")->rate_per_minute, 6u);
  const ParamSpec* degrees = s->device_type("thermostat")->find("set_temp")->find("degrees");
  ASSERT_NE(degrees, nullptr);
  EXPECT_EQ(degrees->type, ParamType::kFloat);
  EXPECT_EQ(degrees->float_min, 10.0);
  EXPECT_EQ(degrees->float_max, 35.0);
  // The line of its table header, as error messages report it.
  const auto header = text.find("[wearable.set_interval]");
  ASSERT_NE(header, std::string::npos);
  EXPECT_EQ(w->find("set_interval")->line, 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(header), '\n'));
  EXPECT_EQ(s->device_type("thermostat")->find("set_interval"), nullptr);
}

struct Bad {
  const char* label;
  std::string text;
  std::string error;  // expected message after "t.toml:"
};

std::string many(const char* prefix, int n, const char* body) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(prefix) + std::to_string(i) + body;
  return s;
}

const std::string kHead = "schema_version = 1\n";  // line 1

const std::vector<Bad>& bad_files() {
  static const std::vector<Bad> cases = {
      {"TOML syntax", kHead + "[w.get]\nrate_per_minute = = 5\n", "3: "},
      {"unterminated string", kHead + "[w.get]\ndescription = \"abc\nrate_per_minute = 5\n", "3: "},
      {"duplicate command", kHead + "[w.get]\nrate_per_minute = 5\n[w.get]\nrate_per_minute = 5\n", "4: "},
      {"duplicate parameter", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"bool\" }\nparams.x = { type = \"bool\" }\n", "5: "},
      {"version missing", "[w.get]\nrate_per_minute = 5\n", "1: schema_version = 1 is missing"},
      {"version 2", "schema_version = 2\n[w.get]\nrate_per_minute = 5\n", "1: schema_version must be 1"},
      {"version as string", "\nschema_version = \"1\"\n[w.get]\nrate_per_minute = 5\n", "2: schema_version must be 1"},
      {"no device type", kHead, "1: no device type is declared"},
      {"unknown top-level key", kHead + "colour = \"red\"\n[w.get]\nrate_per_minute = 5\n", "2: unknown key 'colour'"},
      {"bad type name", kHead + "[Wearable.get]\nrate_per_minute = 5\n", "2: device type name 'Wearable' must be"},
      {"type without commands", kHead + "[w]\ndescription = \"x\"\n", "2: device type w declares no commands"},
      {"unknown key in type", kHead + "[w]\nvendor = \"x\"\n[w.get]\nrate_per_minute = 5\n", "3: unknown key w.vendor"},
      {"bad command name", kHead + "[w.re-boot]\nrate_per_minute = 5\n", "2: command name 're-boot' must be"},
      {"command name too long", kHead + "[w." + std::string(33, 'a') + "]\nrate_per_minute = 5\n", "2: command name '"},
      {"rate missing", kHead + "[w.get]\ndescription = \"x\"\n", "2: w.get.rate_per_minute is missing"},
      {"rate zero", kHead + "[w.get]\n\nrate_per_minute = 0\n", "4: w.get.rate_per_minute is 0, must be between 1 and 600"},
      {"rate 601", kHead + "[w.get]\nrate_per_minute = 601\n", "3: w.get.rate_per_minute is 601"},
      {"rate float", kHead + "[w.get]\nrate_per_minute = 1.5\n", "3: w.get.rate_per_minute must be a whole number"},
      {"unknown command key", kHead + "[w.get]\nrate_per_minute = 5\nrate = 5\n", "4: unknown key w.get.rate"},
      {"description too long", kHead + "[w.get]\nrate_per_minute = 5\ndescription = \"" + std::string(201, 'd') + "\"\n",
       "4: w.get.description is longer than 200 bytes"},
      {"params not a table", kHead + "[w.set]\nrate_per_minute = 5\nparams = 3\n", "4: w.set.params must be a table"},
      {"param not a table", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = 3\n", "4: w.set.x must be a table"},
      {"param type missing", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { min = 1, max = 2 }\n", "4: w.set.x.type is missing"},
      {"param type unknown", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"integer\" }\n", "4: w.set.x.type must be one of"},
      {"bad param name", kHead + "[w.set]\nrate_per_minute = 5\nparams.X = { type = \"bool\" }\n", "4: parameter name 'X' must be"},
      {"int without max", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"int\", min = 1 }\n", "4: w.set.x needs both min and max"},
      {"int min above max", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"int\", min = 3, max = 2 }\n", "4: w.set.x: min is greater than max"},
      {"int bound float", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"int\", min = 1.5, max = 2 }\n", "4: w.set.x.min must be a whole number"},
      {"float bound nan", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"float\", min = nan, max = 2 }\n", "4: w.set.x.min must be finite"},
      {"float bound inf", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"float\", min = 0, max = inf }\n", "4: w.set.x.max must be finite"},
      {"float bound string", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"float\", min = \"0\", max = 1 }\n", "4: w.set.x.min must be a number"},
      {"min on a bool", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"bool\", min = 0 }\n", "4: w.set.x.min does not apply to a parameter of type bool"},
      {"max_length on an int", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"int\", min = 0, max = 1, max_length = 3 }\n", "4: w.set.x.max_length does not apply"},
      {"enum without values", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\" }\n", "4: w.set.x.values is missing"},
      {"enum empty values", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\", values = [] }\n", "4: w.set.x.values must be a non-empty array"},
      {"enum duplicate value", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\", values = [\"a\", \"a\"] }\n", "4: w.set.x.values lists 'a' twice"},
      {"enum bad value", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\", values = [\"a b\"] }\n", "4: w.set.x.values entry 'a b' must be"},
      {"enum non-string value", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\", values = [1] }\n", "4: w.set.x.values must contain only strings"},
      {"enum 33 values", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"enum\", values = [" + many("\"v", 33, "\",") + "] }\n",
       "4: w.set.x.values has more than 32 entries"},
      {"string without max_length", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"string\" }\n", "4: w.set.x.max_length is missing"},
      {"string max_length 0", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"string\", max_length = 0 }\n", "4: w.set.x.max_length must be a whole number between 1 and 256"},
      {"string max_length 257", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"string\", max_length = 257 }\n", "4: w.set.x.max_length must be"},
      {"bad charset", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"string\", max_length = 4, charset = \"utf8\" }\n", "4: w.set.x.charset must be"},
      {"required not bool", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"bool\", required = \"no\" }\n", "4: w.set.x.required must be true or false"},
      {"unknown param key", kHead + "[w.set]\nrate_per_minute = 5\nparams.x = { type = \"bool\", default = true }\n", "4: unknown key w.set.x.default"},
      {"param as standard table", kHead + "[w.set]\nrate_per_minute = 5\n[w.set.params.x]\ntype = \"int\"\nmin = 2\nmax = 1\n", "4: w.set.x: min is greater than max"},
      {"command could exceed 1024 bytes", kHead + "[w.set]\nrate_per_minute = 5\n" +
           many("params.s", 5, " = { type = \"string\", max_length = 256 }\n"),
       "2: w.set could encode to"},
      {"17 parameters", kHead + "[w.set]\nrate_per_minute = 5\n" + many("params.p", 17, " = { type = \"bool\" }\n"),
       ": w.set declares more than 16 parameters"},
      {"65 commands", kHead + many("[w.c", 65, "]\nrate_per_minute = 1\n"), ": device type w declares more than 64 commands"},
      {"17 device types", kHead + many("[t", 17, ".get]\nrate_per_minute = 1\n"), ": more than 16 device types"},
      {"default type unknown", kHead + "default_device_type = \"fridge\"\n[w.get]\nrate_per_minute = 5\n",
       "2: default_device_type 'fridge' is not a declared device type"},
      {"default type needed", kHead + "[a.get]\nrate_per_minute = 5\n[b.get]\nrate_per_minute = 5\n",
       "1: default_device_type is missing"},
      {"array of tables", kHead + "[[w]]\nrate_per_minute = 5\n", "2: unknown key 'w'"},
  };
  return cases;
}

class MalformedSchema : public ::testing::TestWithParam<std::size_t> {};

TEST_P(MalformedSchema, RefusedNamingTheLine) {
  const Bad& b = bad_files()[GetParam()];
  auto s = Schema::parse(b.text, "t.toml");
  ASSERT_FALSE(s) << b.label << ": accepted";
  EXPECT_EQ(s.error().message.rfind("t.toml:", 0), 0u) << s.error().message;
  EXPECT_NE(s.error().message.find(b.error), std::string::npos)
      << b.label << "\n  got: " << s.error().message << "\n  want: " << b.error;
}

INSTANTIATE_TEST_SUITE_P(Issue6, MalformedSchema, ::testing::Range<std::size_t>(0, bad_files().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& i) {
                           std::string n;
                           for (char ch : std::string(bad_files()[i.param].label)) {
                             n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           }
                           return std::to_string(i.param) + "_" + n;
                         });

TEST(Schema, OversizedFileIsRefusedBeforeParsing) {
  std::string big = kHead + "[w.get]\nrate_per_minute = 5\n" + "# " + std::string(kMaxSchemaBytes, 'x') + "\n";
  auto s = Schema::parse(big, "big.toml");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("larger than 65536 bytes"), std::string::npos) << s.error().message;
  testing::TempDir dir;
  const auto path = dir.path() / "big.toml";
  ASSERT_TRUE(write_file_atomic(path, as_bytes(big)));
  EXPECT_FALSE(Schema::load(path));
  EXPECT_FALSE(Schema::load(dir.path() / "absent.toml"));
}

TEST(Schema, MinimalFileAndDefaults) {
  auto s = Schema::parse(kHead + "[w.set]\nrate_per_minute = 5\nparams.s = { type = \"string\", max_length = 8 }\n"
                                 "params.n = { type = \"int\", min = -3, max = 3, required = false }\n",
                         "t.toml");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->default_device_type(), "w");  // the only type
  const CommandSpec* c = s->device_type("w")->find("set");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->params.size(), 2u);
  EXPECT_EQ(c->params[0].name, "n");  // canonical order
  EXPECT_FALSE(c->params[0].required);
  EXPECT_EQ(c->params[1].charset, Charset::kPrintable);
  EXPECT_EQ(c->params[1].max_length, 8u);
}

}  // namespace
}  // namespace armored::command
