# e3_bench: seal/open of the 52-byte reading per AEAD next to raw OpenSSL EVP
# on the same 52 bytes with a pre-keyed context, measured in the same run;
# prints the ratio table at the end.
add_executable(e3_bench ${CMAKE_CURRENT_LIST_DIR}/e3_bench.cpp)
target_link_libraries(e3_bench PRIVATE armored_e3 OpenSSL::Crypto benchmark::benchmark)
armored_warnings(e3_bench)
