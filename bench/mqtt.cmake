# mqtt_bench: PUBLISH encode/decode for one 96-byte reading and for a batch
# of 100 x 76-byte envelopes, the QoS 1 session round trip, and memcpy of the
# same bytes as the in-run reference.
add_executable(mqtt_bench ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_bench.cpp)
target_link_libraries(mqtt_bench PRIVATE armored_mqtt benchmark::benchmark)
armored_warnings(mqtt_bench)

# mqtt_broker_bench: QoS 1 publish rate into a real mosquitto, our client vs
# mosquitto_pub in the same run (uses the test support process helpers).
if(TARGET armored_test_support)
  add_executable(mqtt_broker_bench ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_broker_bench.cpp
                                   ${PROJECT_SOURCE_DIR}/tests/mqtt/tcp_test_socket.cpp)
  target_include_directories(mqtt_broker_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/mqtt)
  target_link_libraries(mqtt_broker_bench PRIVATE armored_mqtt armored_test_support)
  armored_warnings(mqtt_broker_bench)
endif()
