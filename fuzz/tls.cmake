# tls_server_fuzzer: arbitrary bytes into a server-side TLS connection.
armored_fuzzer(tls_server_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/tls_server_fuzzer.cpp armored_tls)
target_sources(tls_server_fuzzer PRIVATE ${PROJECT_SOURCE_DIR}/tests/tls/test_pki.cpp)
target_include_directories(tls_server_fuzzer PRIVATE ${PROJECT_SOURCE_DIR}/tests)

# tls_ticket_file_fuzzer: arbitrary bytes as a client ticket-store file.
armored_fuzzer(tls_ticket_file_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/tls_ticket_file_fuzzer.cpp armored_tls)
