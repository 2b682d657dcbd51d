# libFuzzer targets of the audit component: the capture analyser (link, IP,
# TCP reassembly, MQTT/HTTP/TLS parsers) and the secrets scanner's bounded
# binary reader (strings, DER key shapes, line rules on extracted strings).
armored_fuzzer(audit_pcap_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/audit_pcap_fuzz.cpp armored_audit)
armored_fuzzer(audit_strings_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/audit_strings_fuzz.cpp armored_audit)
# What `audit fleet` reads: certificates, CRLs, pki.json, event details.
armored_fuzzer(audit_fleet_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/audit_fleet_fuzz.cpp armored_audit)
# The unquoted configuration forms (dotenv, YAML, shell, Dockerfile, systemd, Kubernetes).
armored_fuzzer(audit_config_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/audit_config_fuzz.cpp armored_audit)
