# Throughput of the audit scanners' cores, with memchr over the same bytes
# as the reference measured in the same run.
add_executable(audit_bench ${CMAKE_CURRENT_SOURCE_DIR}/audit_bench.cpp)
target_link_libraries(audit_bench PRIVATE armored_audit benchmark::benchmark benchmark::benchmark_main)
armored_warnings(audit_bench)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 -O3 false positives in libstdc++ inserts (see tests/audit/CMakeLists.txt).
  target_compile_options(audit_bench PRIVATE -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread -Wno-restrict)
endif()
