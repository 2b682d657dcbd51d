# pki_bench: the per-identity costs behind `armored pki fleet` (key
# generation, certificate signing, PEM encoding, file writes), next to a bare
# ECDSA P-256 signature as the reference measured in the same run.
add_executable(pki_bench ${CMAKE_CURRENT_LIST_DIR}/pki_bench.cpp)
target_link_libraries(pki_bench PRIVATE armored_pki benchmark::benchmark OpenSSL::Crypto)
armored_warnings(pki_bench)
