# mqtt_bench: PUBLISH encode/decode for one 96-byte reading and for a batch
# of 100 x 76-byte envelopes, the QoS 1 session round trip, and memcpy of the
# same bytes as the in-run reference.
add_executable(mqtt_bench ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_bench.cpp)
target_link_libraries(mqtt_bench PRIVATE armored_mqtt benchmark::benchmark)
armored_warnings(mqtt_bench)
