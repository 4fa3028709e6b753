# ctest style.clang_format: every C++/CUDA source of the repository is formatted as .clang-format
# says (clang-format --dry-run -Werror). Usage:
#   cmake -DCLANG_FORMAT=/usr/bin/clang-format -DROOT=<repo> -P check_format.cmake
file(GLOB_RECURSE sources LIST_DIRECTORIES false
     ${ROOT}/apps/*.cpp ${ROOT}/bench/*.cpp ${ROOT}/bench/*.h
     ${ROOT}/include/*.h ${ROOT}/src/*.h ${ROOT}/src/*.cpp ${ROOT}/src/*.cu
     ${ROOT}/tests/*.h ${ROOT}/tests/*.cpp ${ROOT}/fuzz/*.h ${ROOT}/fuzz/*.cpp)
list(LENGTH sources count)
if(count EQUAL 0)
  message(FATAL_ERROR "check_format: no sources under ${ROOT}")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${sources}
                RESULT_VARIABLE result ERROR_VARIABLE errors OUTPUT_QUIET)
if(NOT result EQUAL 0)
  # One line per badly formatted file, then the fix.
  string(REGEX MATCHALL "[^\n]*: error: code should be clang-formatted[^\n]*" lines "${errors}")
  set(files "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE ":[0-9]+:[0-9]+: error:.*" "" file "${line}")
    list(APPEND files "${file}")
  endforeach()
  list(REMOVE_DUPLICATES files)
  list(JOIN files "\n  " listing)
  message(FATAL_ERROR "not clang-formatted:\n  ${listing}\nfix: clang-format -i <file>")
endif()
message(STATUS "check_format: ${count} files formatted")
