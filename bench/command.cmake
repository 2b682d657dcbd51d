# Cost of the command path's sans-I/O steps, with a bare CBOR decode of the
# same bytes as the reference measured in the same run.
add_executable(command_bench ${CMAKE_CURRENT_SOURCE_DIR}/command_bench.cpp)
target_link_libraries(command_bench PRIVATE armored_command benchmark::benchmark benchmark::benchmark_main)
armored_warnings(command_bench)
