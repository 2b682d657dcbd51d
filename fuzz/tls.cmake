# tls_server_fuzzer: arbitrary bytes into a server-side TLS connection.
# Seeds (fuzz/corpus/tls_server_fuzzer): ClientHellos captured from
# `openssl s_client` 3.0 on loopback: plain TLS 1.3, TLS 1.2, and a resumption
# with PSK + early data.
armored_fuzzer(tls_server_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/tls_server_fuzzer.cpp armored_tls)
target_sources(tls_server_fuzzer PRIVATE ${PROJECT_SOURCE_DIR}/tests/tls/test_pki.cpp)
target_include_directories(tls_server_fuzzer PRIVATE ${PROJECT_SOURCE_DIR}/tests)

# tls_ticket_file_fuzzer: arbitrary bytes as a client ticket-store file.
# Seeds: one valid entry (format in src/tls/session_store.h), with and without
# its checksum trailer.
armored_fuzzer(tls_ticket_file_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/tls_ticket_file_fuzzer.cpp armored_tls)

# tls_ticket_key_file_fuzzer: arbitrary bytes as a server ticket-key file.
# Seeds: a valid two-key file (format in src/tls/ticket_key_file.h), and its
# body without the checksum.
armored_fuzzer(tls_ticket_key_file_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/tls_ticket_key_file_fuzzer.cpp armored_tls)
