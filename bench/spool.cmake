# spool_bench: durable appends/s with group commit, next to a raw
# write+fdatasync loop measured in the same run on the same file system.
add_executable(spool_bench ${CMAKE_CURRENT_LIST_DIR}/spool_bench.cpp)
target_link_libraries(spool_bench PRIVATE armored_spool Threads::Threads)
armored_warnings(spool_bench)
