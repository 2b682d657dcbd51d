# Device SDK (device-sdk/): its host seal rate next to the C++ sealer the fleet uses.
if(TARGET armored_device_sdk_psa)
  add_executable(device_sdk_bench ${PROJECT_SOURCE_DIR}/device-sdk/bench/seal_bench.cpp)
  target_link_libraries(device_sdk_bench PRIVATE armored_device_sdk_openssl armored_device_sdk_psa armored_e3
                        benchmark::benchmark)
  armored_warnings(device_sdk_bench)
endif()
