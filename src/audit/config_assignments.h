#pragma once
// Unquoted NAME/value pairs in configuration lines, without I/O: the forms in
// which device fleets' credentials are usually left in a tree.
//
//   dotenv, YAML, INI, properties, Makefile   NAME=value, name: value, name = value, NAME ?= value
//   mosquitto.conf and other `key value` files  remote_password value   (compound keys only)
//   shell                                     export NAME=value, env NAME=value cmd, --name=value, --name value
//   Dockerfile                                ENV NAME=value OTHER=value, ARG NAME=value, ENV NAME value
//   systemd unit                              Environment=NAME=value, Environment="NAME=value" "B=c"
//   docker-compose                            - NAME=value, - "NAME=value"
//   Kubernetes / ECS env entries              - name: NAME  (then)  value: value ; {"name": "N", "value": "v"}
//
// In all of these a '#' (or ';' in INI) starts a comment only at the start
// of a word: inside an unquoted value it is part of the value, as dotenv,
// YAML, POSIX shell and systemd read it.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace armored::audit {

struct ConfigAssignment {
  std::string name;
  std::size_t value_column = 0;  // 0-based column of the value within the line
  std::string_view value;        // points into the line given; quotes removed
};

// Every unquoted (or shell-quoted) assignment on one configuration line, in
// line order. The same value may be reported by two forms; callers dedupe by
// column. Values are as written: placeholders are the caller's business.
// With flag_values false, `--name value` is not read: strings extracted
// from binaries are mostly help and error text, where flags sit in prose.
std::vector<ConfigAssignment> config_assignments(std::string_view line, bool flag_values = true);

// A one-line {"name": "N", "value": "v"} or `name = "N", value = "v"` entry
// (ECS task definitions, Terraform, YAML flow maps); empty name if none.
ConfigAssignment name_value_entry(std::string_view line);

// Kubernetes-style env lists, where the name and its value sit on two lines:
//   - name: DB_PASSWORD
//     value: s3cr3t
// Feed every line; returns the assignment when a value line completes a name
// seen on one of the two previous lines (empty name otherwise). `valueFrom`
// (a secretKeyRef) ends the entry without a value.
class EnvEntryTracker {
 public:
  ConfigAssignment feed(std::string_view line);

 private:
  std::string name_;
  int lines_left_ = 0;
};

}  // namespace armored::audit
