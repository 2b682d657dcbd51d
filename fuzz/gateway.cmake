# Gateway ingress: the answer parser every device runs on its gateway's datagrams.
armored_fuzzer(gateway_answer_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/gateway_answer_fuzz.cpp armored_gateway)
