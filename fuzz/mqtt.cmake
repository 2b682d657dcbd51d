# MQTT codec fuzzers (seeds in fuzz/corpus/<target>/, written from our own
# encoders by tests/mqtt/corpus_test.cpp).
armored_fuzzer(mqtt_decoder_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_decoder_fuzzer.cpp armored_mqtt)
armored_fuzzer(mqtt_server_session_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_server_session_fuzzer.cpp armored_mqtt)
armored_fuzzer(mqtt_client_session_fuzzer ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_client_session_fuzzer.cpp armored_mqtt)
