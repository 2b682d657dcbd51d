# E3 fuzz targets: the envelope/announcement/batch parsers with the Opener
# behind them, and the strict CBOR decoder.
armored_fuzzer(e3_envelope_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/e3_envelope_fuzz.cpp armored_e3)
target_include_directories(e3_envelope_fuzz PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
armored_fuzzer(cbor_decoder_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/cbor_decoder_fuzz.cpp armored_cbor)
