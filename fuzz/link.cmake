# Device-gateway link: the answer parser every device runs on its gateway's datagrams.
armored_fuzzer(link_answer_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/link_answer_fuzz.cpp armored_link)
