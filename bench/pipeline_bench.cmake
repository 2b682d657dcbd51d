# pipeline_bench: fleet -> gateway -> cloud as real processes on loopback,
# durable readings/s counted from the cloud's database, seal-to-stored
# latency, peak memory per process, and Mosquitto (TLS 1.3, client
# certificates, QoS 1) as the reference measured in the same run.
if(TARGET armored_test_support)
  add_executable(pipeline_bench ${CMAKE_CURRENT_LIST_DIR}/pipeline_bench.cpp
                                ${CMAKE_CURRENT_LIST_DIR}/pipeline_bench_support.cpp
                                ${PROJECT_SOURCE_DIR}/tests/mqtt/tcp_test_socket.cpp)
  target_include_directories(pipeline_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/mqtt ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(pipeline_bench PRIVATE armored_e3 armored_link armored_mqtt armored_tls armored_provision
                        armored_telemetry armored_metrics armored_test_support SQLite::SQLite3 Threads::Threads)
  armored_warnings(pipeline_bench)
  # The bench runs the `armored` program it was built with.
  add_dependencies(pipeline_bench armored)
endif()
