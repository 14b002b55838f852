# maestro_add_library(NAME [DEPENDS target...])
#   Builds maestro_NAME (alias maestro::NAME) from the *.cpp files of the calling folder, and, if the
#   folder has *_test.cpp files, a test executable maestro_NAME_tests registered with ctest.
#   Headers are included as "part/file.hpp" from src/.
function(maestro_add_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;TEST_DEPENDS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  set(tests ${sources})
  list(FILTER sources EXCLUDE REGEX "_test\\.cpp$")
  list(FILTER tests INCLUDE REGEX "_test\\.cpp$")

  if(sources)
    add_library(maestro_${name} STATIC ${sources})
    set(scope PUBLIC)
  else()  # headers only
    add_library(maestro_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(maestro::${name} ALIAS maestro_${name})
  target_include_directories(maestro_${name} ${scope} "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(maestro_${name} ${scope} ${ARG_DEPENDS})
  if(sources AND name IN_LIST MAESTRO_HOT_PARTS)
    target_compile_options(maestro_${name} PRIVATE $<$<CONFIG:Release>:-O3>)
  endif()
  set_property(GLOBAL APPEND PROPERTY MAESTRO_LIBRARIES maestro::${name})

  if(tests)
    maestro_add_test(maestro_${name}_tests SOURCES ${tests} DEPENDS maestro::${name} ${ARG_TEST_DEPENDS})
  endif()
endfunction()

# What every test program, and the target its precompiled header is built in, is compiled with: the same
# flags, or GCC refuses the header. Test code at -O1 (what it tests is built with the project's levels).
function(maestro_test_settings target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O1>)
  # GCC 12 at -O1 warns of out-of-bounds copies inside libstdc++'s inlined std::string concatenation
  # (GCC bugs 105651, 107138): false positives, fatal under -Werror.
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU>:-Wno-array-bounds> $<$<CXX_COMPILER_ID:GNU>:-Wno-stringop-overflow>
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  target_link_libraries(${target} PRIVATE GTest::gtest GTest::gmock GTest::gtest_main
                        rapidcheck rapidcheck_gtest Threads::Threads)
  target_compile_definitions(${target} PRIVATE
    MAESTRO_SHARED_DIR="${MAESTRO_SHARED_DIR}"
    MAESTRO_BINARY_DIR="${PROJECT_BINARY_DIR}"
    MAESTRO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endfunction()

# maestro_add_test(TARGET SOURCES file... DEPENDS target... [LABELS label...] [SERIAL])
#   A GoogleTest (with rapidcheck) executable whose tests ctest discovers (with the ctest LABELS given; SERIAL:
#   never run beside another test, for tests whose subject is the machine's CPU).
#   MAESTRO_SHARED_DIR (the shared/ folder) and MAESTRO_BINARY_DIR are compiled in for fixtures.
function(maestro_add_test target)
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPENDS;LABELS" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPENDS})
  maestro_test_settings(${target})
  if(MAESTRO_PCH)
    if(NOT TARGET maestro_test_pch)
      # The test framework's headers, parsed once for every test program (~3 s a test file otherwise).
      add_library(maestro_test_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/test_pch.cpp")
      maestro_test_settings(maestro_test_pch)
      target_precompile_headers(maestro_test_pch PRIVATE
        <gtest/gtest.h> <gmock/gmock.h> <rapidcheck.h> <rapidcheck/gtest.h>
        <algorithm> <atomic> <chrono> <cmath> <filesystem> <fstream> <string> <thread> <vector>)
    endif()
    target_precompile_headers(${target} REUSE_FROM maestro_test_pch)
  endif()
  set(properties TIMEOUT 300)
  if(ARG_LABELS)
    list(APPEND properties LABELS "${ARG_LABELS}")
  endif()
  if(ARG_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
endfunction()
