armored_fuzzer(admin_session ${CMAKE_CURRENT_SOURCE_DIR}/admin_session_fuzz.cpp armored_cloud)
