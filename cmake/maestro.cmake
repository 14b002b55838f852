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
  set_property(GLOBAL APPEND PROPERTY MAESTRO_LIBRARIES maestro::${name})

  if(tests)
    maestro_add_test(maestro_${name}_tests SOURCES ${tests} DEPENDS maestro::${name} ${ARG_TEST_DEPENDS})
  endif()
endfunction()

# maestro_add_test(TARGET SOURCES file... DEPENDS target... [LABELS label...] [SERIAL])
#   A GoogleTest (with rapidcheck) executable whose tests ctest discovers (with the ctest LABELS given; SERIAL:
#   never run beside another test, for tests whose subject is the machine's CPU).
#   MAESTRO_SHARED_DIR (the shared/ folder) and MAESTRO_BINARY_DIR are compiled in for fixtures.
function(maestro_add_test target)
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPENDS;LABELS" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPENDS} GTest::gtest GTest::gmock GTest::gtest_main
                        rapidcheck rapidcheck_gtest Threads::Threads)
  target_compile_definitions(${target} PRIVATE
    MAESTRO_SHARED_DIR="${MAESTRO_SHARED_DIR}"
    MAESTRO_BINARY_DIR="${PROJECT_BINARY_DIR}"
    MAESTRO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  set(properties TIMEOUT 300)
  if(ARG_LABELS)
    list(APPEND properties LABELS "${ARG_LABELS}")
  endif()
  if(ARG_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${target} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
endfunction()
