armored_fuzzer(telemetry_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/telemetry_fuzz.cpp armored_telemetry)
