# telemetry_bench: per-reading cost of encode, decode+validate and the
# generator, to budget the fleet simulator and the cloud's ingest.
add_executable(telemetry_bench ${CMAKE_CURRENT_LIST_DIR}/telemetry_bench.cpp)
target_link_libraries(telemetry_bench PRIVATE armored_telemetry benchmark::benchmark)
armored_warnings(telemetry_bench)
