# scale_out_bench: the single cloud (SQLite, PostgreSQL) and the scaled
# cloud (front + NATS JetStream + 1..3 ingest workers on PostgreSQL) as real
# processes on loopback, each draining the same spooled backlog; readings/s
# counted from the database and CPU per stored reading per role, with a
# projection to 1 and 10 million devices.
if(TARGET armored_test_support AND PostgreSQL_FOUND)
  add_executable(scale_out_bench ${CMAKE_CURRENT_LIST_DIR}/scale_out_bench.cpp
                                 ${CMAKE_CURRENT_LIST_DIR}/pipeline_bench_support.cpp
                                 ${PROJECT_SOURCE_DIR}/tests/mqtt/tcp_test_socket.cpp)
  target_include_directories(scale_out_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/mqtt ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(scale_out_bench PRIVATE armored_e3 armored_link armored_mqtt armored_tls armored_provision
                        armored_telemetry armored_metrics armored_test_support SQLite::SQLite3
                        PostgreSQL::PostgreSQL Threads::Threads)
  armored_warnings(scale_out_bench)
  # The bench runs the `armored` program it was built with, and nats-server.
  add_dependencies(scale_out_bench armored)
endif()
