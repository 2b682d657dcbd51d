# Device SDK (device-sdk/): what a device parses from its gateway and storage.
armored_fuzzer(device_answer_fuzz ${PROJECT_SOURCE_DIR}/device-sdk/fuzz/answer_fuzz.cpp armored_device_sdk armored_link)
armored_fuzzer(device_command_fuzz ${PROJECT_SOURCE_DIR}/device-sdk/fuzz/command_fuzz.cpp
               armored_device_sdk_openssl armored_crypto)
