# Every dependency is a Debian package (see scripts/install-deps.sh).
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL QUIET)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCAP IMPORTED_TARGET libpcap)

# Standalone Asio is header-only (libasio-dev).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(armored_asio INTERFACE)
target_include_directories(armored_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(armored_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(armored_asio INTERFACE Threads::Threads)
# Asio 1.22 only detects C++20 coroutines on GCC/MSVC; clang 14 with
# libstdc++ supports <coroutine> in C++20 mode, so say so explicitly.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_definitions(armored_asio INTERFACE ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
endif()

if(ARMORED_TESTS)
  find_package(GTest REQUIRED)
endif()
if(ARMORED_BENCH)
  find_package(benchmark REQUIRED)
endif()
