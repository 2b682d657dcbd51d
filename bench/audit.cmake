# Throughput of the audit scanners' cores, with memchr over the same bytes
# as the reference measured in the same run.
add_executable(audit_bench ${CMAKE_CURRENT_SOURCE_DIR}/audit_bench.cpp)
target_link_libraries(audit_bench PRIVATE armored_audit benchmark::benchmark benchmark::benchmark_main)
armored_warnings(audit_bench)
