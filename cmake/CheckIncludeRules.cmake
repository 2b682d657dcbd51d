# Include rules (docs/README.md, "Headers"): the headers in a component's
# internal/ folder are its own. Only the component's sources and its tests
# (tests/<component>/), fuzzers and benchmarks include them; every other
# component goes through the public headers beside internal/.
#
# Run at configure time (include()) and as the IncludeRules test
# (cmake -DARMORED_SOURCE_DIR=... -P), so a violation fails the build or
# `make test` on every machine.
if(NOT ARMORED_SOURCE_DIR)
  set(ARMORED_SOURCE_DIR ${PROJECT_SOURCE_DIR})
endif()
file(GLOB_RECURSE _armored_checked
     ${ARMORED_SOURCE_DIR}/src/*.h ${ARMORED_SOURCE_DIR}/src/*.cpp
     ${ARMORED_SOURCE_DIR}/tests/*.h ${ARMORED_SOURCE_DIR}/tests/*.cpp)
set(_armored_violations "")
foreach(_file ${_armored_checked})
  file(RELATIVE_PATH _rel ${ARMORED_SOURCE_DIR} ${_file})
  string(REGEX MATCH "^(src|tests)/([a-z0-9_]+)/" _owner_match "${_rel}")
  set(_owner "${CMAKE_MATCH_2}")
  file(STRINGS ${_file} _lines REGEX "#include \"[a-z0-9_]+/internal/")
  foreach(_line ${_lines})
    string(REGEX MATCH "#include \"([a-z0-9_]+)/internal/" _m "${_line}")
    if(NOT CMAKE_MATCH_1 STREQUAL _owner)
      string(APPEND _armored_violations "\n  ${_rel}: ${_line}")
    endif()
  endforeach()
endforeach()
if(_armored_violations)
  message(FATAL_ERROR "Internal headers included from outside their component (use its public header):"
                      "${_armored_violations}")
endif()
