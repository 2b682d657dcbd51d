# tls_bench: handshake rate vs openssl s_server, bytes on the wire, flights
# to first byte, idle memory per connection. Prints a table; run the release
# build: build/release/bench/tls_bench. Needs the test PKI and peer helpers.
if(TARGET armored_tls_test_pki)
  add_executable(tls_bench ${CMAKE_CURRENT_SOURCE_DIR}/tls_bench.cpp ${CMAKE_CURRENT_SOURCE_DIR}/tls_bench_wire.cpp
                           ${CMAKE_CURRENT_SOURCE_DIR}/tls_bench_memory.cpp)
  target_link_libraries(tls_bench PRIVATE armored_tls armored_tls_test_link armored_tls_test_pki armored_pki)
  armored_warnings(tls_bench)
endif()
