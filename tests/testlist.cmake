# testlist.cmake: CTest entries from each test program's own list, its tests[] array (as
# libuv's test-list.h is the one list), never from a pattern over the sources that can miss a
# test silently. Two halves: functions for a CMakeLists.txt to include, and (at the bottom) the
# build-time step they run as `cmake -P` each time a test program links.
#
# sqlpool_check_test_areas(<folder> <area>...)
#   Configure fails unless the <folder>/test_*.c files and the areas listed are the same set:
#   a test_<area>.c that the list forgot would build nothing and run nothing.
#
# sqlpool_register_tests(<area> [LABELS <label>...] [TIMEOUT <seconds>] [RUN_SERIAL]
#                        [RESOURCE_LOCK <lock> <test>...])
#   For the program test_<area>: after it links, `test_<area> --list` (SQLPOOL_TEST_MAIN prints
#   its array) becomes one CTest entry per name, `test_<area> <name>`, with LABELS (default:
#   <area>), TIMEOUT (default 120), RUN_SERIAL, and the lock for the tests named after it. The
#   build fails when a name does not start with test_<area>_, appears twice, or a lock names a
#   test not in the list, or when the program defines a function test_<area>_* that is not in
#   its array: a static one fails the compile (-Werror=unused-function, added here whatever
#   SQLPOOL_WERROR says), a global one fails the compile (-Werror=missing-prototypes) or, if
#   declared first, the step's look at the program's symbols (nm).
#   Before the program is built, CTest shows the one entry test_<area>_NOT_BUILT, which fails.
#
# scripts/check-test-list.sh builds tests/fixtures/testlist/ to show each of these failures.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.20)
  # The build-time step. -D: PROGRAM (the test program), PARAMS (what the configure step
  # wrote: AREA, LABELS, TIMEOUT, RUN_SERIAL, LOCK, LOCK_TESTS, OUT), NM.
  include("${PARAMS}")
  file(REMOVE "${OUT}")
  execute_process(COMMAND "${PROGRAM}" --list RESULT_VARIABLE rc OUTPUT_VARIABLE listed
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} --list failed (${rc}): ${err}")
  endif()
  string(REGEX REPLACE "\n$" "" listed "${listed}")
  if(listed STREQUAL "")
    message(FATAL_ERROR "${PROGRAM} --list printed no test")
  endif()
  string(REPLACE "\n" ";" names "${listed}")
  set(seen "")
  foreach(name IN LISTS names)
    if(NOT name MATCHES "^test_${AREA}_[a-z0-9_]+$")
      message(FATAL_ERROR "test_${AREA}.c: '${name}' in its tests[] array does not start with "
                          "test_${AREA}_ (lower case, digits, underscores)")
    endif()
    if(name IN_LIST seen)
      message(FATAL_ERROR "test_${AREA}.c: ${name} is in its tests[] array twice")
    endif()
    list(APPEND seen "${name}")
  endforeach()
  foreach(name IN LISTS LOCK_TESTS)
    if(NOT name IN_LIST names)
      message(FATAL_ERROR "tests/CMakeLists.txt: RESOURCE_LOCK ${LOCK} names ${name}, which is "
                          "not in test_${AREA}.c's tests[] array")
    endif()
  endforeach()
  # Every function test_<area>_* in the program is in the list (a static one left out of the
  # array was already an unused-function error; a global one declared before it was not).
  execute_process(COMMAND "${NM}" --defined-only "${PROGRAM}" RESULT_VARIABLE rc
                  OUTPUT_VARIABLE symbols ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${PROGRAM} failed (${rc}): ${err}")
  endif()
  string(REGEX MATCHALL "[ \t][Tt][ \t]+test_${AREA}_[a-z0-9_]+\n" defined "${symbols}")
  foreach(line IN LISTS defined)
    string(REGEX MATCH "test_${AREA}_[a-z0-9_]+" name "${line}")
    if(NOT name IN_LIST names)
      message(FATAL_ERROR "test_${AREA}.c defines ${name}, which is not in its tests[] array: "
                          "add it there (or rename it if it is not a test)")
    endif()
  endforeach()
  set(text "# From ${PROGRAM} --list by tests/testlist.cmake; do not edit.\n")
  foreach(name IN LISTS names)
    set(props "LABELS \"${LABELS}\" TIMEOUT \"${TIMEOUT}\" WORKING_DIRECTORY \"${WORKDIR}\"")
    if(RUN_SERIAL)
      string(APPEND props " RUN_SERIAL \"TRUE\"")
    endif()
    if(name IN_LIST LOCK_TESTS)
      string(APPEND props " RESOURCE_LOCK \"${LOCK}\"")
    endif()
    string(APPEND text "add_test([=[${name}]=] \"${PROGRAM}\" \"${name}\")\n"
           "set_tests_properties([=[${name}]=] PROPERTIES ${props})\n")
  endforeach()
  file(WRITE "${OUT}.tmp" "${text}")
  file(RENAME "${OUT}.tmp" "${OUT}")
  return()
endif()

set(SQLPOOL_TESTLIST_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")

function(sqlpool_check_test_areas folder)
  file(GLOB files CONFIGURE_DEPENDS RELATIVE "${folder}" "${folder}/test_*.c")
  set(found "")
  foreach(file IN LISTS files)
    string(REGEX REPLACE "^test_(.*)\\.c$" "\\1" area "${file}")
    list(APPEND found "${area}")
    if(NOT area IN_LIST ARGN)
      message(FATAL_ERROR "${folder}/${file} is not in the list of test areas "
                          "(tests/CMakeLists.txt): add ${area} there, or its tests never run")
    endif()
  endforeach()
  foreach(area IN LISTS ARGN)
    if(NOT area IN_LIST found)
      message(FATAL_ERROR "test area ${area} is listed but ${folder}/test_${area}.c is missing")
    endif()
  endforeach()
endfunction()

function(sqlpool_register_tests area)
  cmake_parse_arguments(PARSE_ARGV 1 arg "RUN_SERIAL" "TIMEOUT" "LABELS;RESOURCE_LOCK")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sqlpool_register_tests(${area}): unknown ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT CMAKE_NM)
    message(FATAL_ERROR "sqlpool_register_tests: no nm found (CMAKE_NM)")
  endif()
  set(target test_${area})
  target_compile_options(${target} PRIVATE -Werror=unused-function -Werror=missing-prototypes
                         -Werror=missing-declarations)
  if(NOT arg_LABELS)
    set(arg_LABELS ${area})
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  set(lock "")
  set(lock_tests "")
  if(arg_RESOURCE_LOCK)
    list(POP_FRONT arg_RESOURCE_LOCK lock)
    set(lock_tests ${arg_RESOURCE_LOCK})
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}")
  set(out "${dir}/${target}_tests.cmake")
  set(params "${dir}/${target}_list_params.cmake")
  string(CONCAT text "set(AREA [==[${area}]==])\nset(LABELS [==[${arg_LABELS}]==])\n"
         "set(TIMEOUT [==[${arg_TIMEOUT}]==])\nset(RUN_SERIAL ${arg_RUN_SERIAL})\n"
         "set(LOCK [==[${lock}]==])\nset(LOCK_TESTS [==[${lock_tests}]==])\n"
         "set(OUT [==[${out}]==])\nset(WORKDIR [==[${dir}]==])\n")
  file(CONFIGURE OUTPUT "${params}" CONTENT "${text}" @ONLY) # rewritten only when it changes
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${CMAKE_COMMAND}" "-DPROGRAM=$<TARGET_FILE:${target}>" "-DPARAMS=${params}"
            "-DNM=${CMAKE_NM}" -P "${SQLPOOL_TESTLIST_SCRIPT}"
    DEPENDS ${target} "${SQLPOOL_TESTLIST_SCRIPT}" "${params}"
    COMMENT "Listing the tests of ${target}"
    VERBATIM)
  add_custom_target(${target}_list ALL DEPENDS "${out}")
  # What CTest reads: the list once the program is built, else one entry that fails.
  set(include "${dir}/${target}_include.cmake")
  string(CONCAT text "if(EXISTS [==[${out}]==])\n  include([==[${out}]==])\nelse()\n"
         "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  file(CONFIGURE OUTPUT "${include}" CONTENT "${text}" @ONLY)
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include}")
endfunction()
