# Strict warnings for our own code only; third-party headers are SYSTEM includes.
function(armored_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
                                           -Wconversion -Wno-sign-conversion)
  # GCC 12 at -O3 reports -Wrestrict, -Warray-bounds and -Wstringop-overflow
  # (and -Wstringop-overread) inside inlined libstdc++ string and vector code that cannot go out of
  # bounds (GCC bugs 105329, 105651, 106199). Debug builds keep them, and
  # ASan checks the real accesses at run time.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread)
  endif()
endfunction()

# armored_component(NAME SOURCES... [DEPS ...]) defines library armored_NAME
# with src/ as its include root, so code includes "NAME/header.h".
function(armored_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(armored_${name} STATIC ${ARG_SOURCES})
  target_include_directories(armored_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(armored_${name} PUBLIC ${ARG_DEPS})
  armored_warnings(armored_${name})
  set_property(GLOBAL APPEND PROPERTY ARMORED_COMPONENTS armored_${name})
endfunction()

# armored_test(NAME SOURCES... DEPS ...) builds a GoogleTest binary and registers
# each test with CTest. Tests run from the build tree with ARMORED_SOURCE_DIR set.
function(armored_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
      ARMORED_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      ARMORED_BINARY_DIR="${PROJECT_BINARY_DIR}")
  armored_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
      WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
      DISCOVERY_TIMEOUT 60
      PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
