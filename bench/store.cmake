# store_bench: durable readings/s per backend and batch size, next to a raw
# sqlite3 INSERT loop with the same settings measured in the same run.
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cpp)
target_link_libraries(store_bench PRIVATE armored_store armored_telemetry SQLite::SQLite3 PostgreSQL::PostgreSQL)
armored_warnings(store_bench)
