# One case of the bad-input catalogue (bad_inputs.cmake), run as `cmake -P`:
#   1. WORK is emptied and SETUP (a cmake file) fills it with the case's inputs;
#   2. every file and folder under WORK is listed with its size and SHA-256;
#   3. COMMAND runs in WORK;
#   4. its exit code must be EXPECTED_CODE. An error line is a line of APP's own error prefix
#      ("prepare: ...") or a logged error ("[12:00:00] error ..."). A failing case must print
#      exactly one, it must be the last non-empty line of stderr, and it must match
#      EXPECTED_REGEX (which names the file, line or key). A case that must succeed (code 0)
#      prints no error line, and EXPECTED_REGEX must match its output;
#   5. every listed file is unchanged, nothing new exists except paths matching ALLOW (relative
#      to WORK; none by default), and no temporary or half-written file (*.tmp*, *.partial,
#      .*.cltci-old-*) is left anywhere under WORK; every path in REQUIRE (relative to WORK, e.g.
#      the checkpoint of an interrupted run) exists.
# SETUP sees WORK, APPS (the executables' folder), DATA (tests/integration/data/bad), SHARED (the
# catalogue's shared inputs, made by the bad_input.setup fixture) and the helpers below.
cmake_minimum_required(VERSION 3.25)
foreach(required WORK SETUP APP EXPECTED_CODE EXPECTED_REGEX COMMAND)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "bad_input.cmake: -D${required}=... is required")
  endif()
endforeach()

# Setup helpers. Binary content comes from printf's octal escapes: CMake strings hold no NUL.
find_program(bad_input_printf printf REQUIRED)
find_program(bad_input_truncate truncate REQUIRED)

# bad_input_bytes(FILE ESCAPES): writes printf-escaped bytes, e.g. "\\211PNG".
function(bad_input_bytes file escapes)
  get_filename_component(dir "${file}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND ${bad_input_printf} "${escapes}" OUTPUT_FILE "${file}"
                  RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "setup: printf failed for ${file}")
  endif()
endfunction()

# bad_input_truncate(FILE SIZE): cuts FILE to SIZE bytes.
function(bad_input_truncate file size)
  execute_process(COMMAND ${bad_input_truncate} -s ${size} "${file}" RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "setup: truncate failed for ${file}")
  endif()
endfunction()

# bad_input_run(COMMAND...): a setup step that must succeed.
function(bad_input_run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE code
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "setup step failed (exit ${code}): ${ARGN}\n${out}${err}")
  endif()
endfunction()

# bad_input_run_to(FILE COMMAND...): a setup step that must succeed, its stdout written to FILE.
function(bad_input_run_to file)
  get_filename_component(dir "${file}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE code
                  OUTPUT_FILE "${file}" ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "setup step failed (exit ${code}): ${ARGN}\n${err}")
  endif()
endfunction()

# bad_input_replace_hex(FILE FROM TO): replaces the first run of bytes FROM (hex digits) by TO.
function(bad_input_replace_hex file from to)
  file(READ "${file}" hex HEX)
  # Only a match at a byte boundary counts (an even position in the hex text).
  string(REGEX MATCH "^(..)*${from}" head "${hex}")
  if(head STREQUAL "")
    message(FATAL_ERROR "setup: bytes ${from} not found in ${file}")
  endif()
  string(LENGTH "${head}" end)
  string(LENGTH "${from}" length)
  math(EXPR start "${end} - ${length}")
  string(SUBSTRING "${hex}" 0 ${start} before)
  string(SUBSTRING "${hex}" ${end} -1 after)
  string(REGEX REPLACE "(..)" "\\\\x\\1" escaped "${before}${to}${after}")
  bad_input_bytes("${file}" "${escaped}")
endfunction()

# Listing: one "path|size|sha256" (or "path|dir") entry per file and folder below `root`.
function(bad_input_listing root out_var)
  file(GLOB_RECURSE entries LIST_DIRECTORIES true RELATIVE "${root}" "${root}/*")
  list(SORT entries)
  set(listing "")
  foreach(entry IN LISTS entries)
    if(IS_SYMLINK "${root}/${entry}")
      file(READ_SYMLINK "${root}/${entry}" target)
      list(APPEND listing "${entry}|link|${target}")
    elseif(IS_DIRECTORY "${root}/${entry}")
      list(APPEND listing "${entry}|dir")
    else()
      file(SIZE "${root}/${entry}" size)
      file(SHA256 "${root}/${entry}" hash)
      list(APPEND listing "${entry}|${size}|${hash}")
    endif()
  endforeach()
  set(${out_var} "${listing}" PARENT_SCOPE)
endfunction()

# 1. A fresh case directory.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include("${SETUP}")

# 2. What is there before.
bad_input_listing("${WORK}" before)

# 3. The command.
execute_process(COMMAND ${COMMAND} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE code
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
set(failures "")

# 4. Exit code and the one error line.
if(NOT code STREQUAL "${EXPECTED_CODE}")
  list(APPEND failures "exit code ${code}, expected ${EXPECTED_CODE}")
endif()
# Lines as a list: a ';' in a message (CMake's list separator) travels as the unit separator.
string(ASCII 31 unit_separator)
string(REPLACE ";" "${unit_separator}" all_escaped "${all}")
string(REPLACE "\n" ";" lines "${all_escaped}")
set(error_count 0)
foreach(line IN LISTS lines)
  string(REPLACE "${unit_separator}" ";" line "${line}")
  if(line MATCHES "^${APP}: " OR line MATCHES "^\\[[0-9:. -]+\\] (error|critical) ")
    math(EXPR error_count "${error_count} + 1")
  endif()
endforeach()
if(EXPECTED_CODE EQUAL 0)
  if(NOT error_count EQUAL 0)
    list(APPEND failures "expected no error line, got ${error_count}")
  endif()
  if(NOT all MATCHES "${EXPECTED_REGEX}")
    list(APPEND failures "output does not match '${EXPECTED_REGEX}'")
  endif()
else()
  string(REPLACE ";" "${unit_separator}" err_escaped "${err}")
  string(REPLACE "\n" ";" err_lines "${err_escaped}")
  set(last "")
  foreach(line IN LISTS err_lines)
    string(REPLACE "${unit_separator}" ";" line "${line}")
    if(NOT line STREQUAL "")
      set(last "${line}")
    endif()
  endforeach()
  if(NOT error_count EQUAL 1)
    list(APPEND failures "expected exactly one error line, got ${error_count}")
  endif()
  if(NOT last MATCHES "^${APP}: " AND NOT last MATCHES "^\\[[0-9:. -]+\\] (error|critical) ")
    list(APPEND failures "the last line of stderr is not the error line: '${last}'")
  elseif(NOT last MATCHES "${EXPECTED_REGEX}")
    list(APPEND failures "the error line does not match '${EXPECTED_REGEX}': '${last}'")
  endif()
endif()

# 5. Nothing changed, nothing new, nothing half-written.
bad_input_listing("${WORK}" after)
if(NOT DEFINED ALLOW OR ALLOW STREQUAL "")
  set(ALLOW "^$")  # matches no path
endif()
foreach(entry IN LISTS before)
  if(NOT entry IN_LIST after)
    string(REGEX REPLACE "\\|.*" "" path "${entry}")
    list(APPEND failures "changed or removed: ${path}")
  endif()
endforeach()
foreach(entry IN LISTS after)
  string(REGEX REPLACE "\\|.*" "" path "${entry}")
  if(path MATCHES "(^|/)\\.[^/]*\\.tmp|\\.tmp$|\\.partial$|(^|/)\\.[^/]*\\.cltci-old-")
    list(APPEND failures "temporary or half-written file left: ${path}")
  elseif(NOT entry IN_LIST before AND NOT path MATCHES "${ALLOW}")
    # A changed file is reported above; here only the paths that did not exist before.
    set(existed FALSE)
    foreach(old IN LISTS before)
      if(old MATCHES "^([^|]*)\\|" AND CMAKE_MATCH_1 STREQUAL path)
        set(existed TRUE)
      endif()
    endforeach()
    if(NOT existed)
      list(APPEND failures "new file or folder: ${path}")
    endif()
  endif()
endforeach()

foreach(path IN LISTS REQUIRE)
  if(NOT EXISTS "${WORK}/${path}")
    list(APPEND failures "expected file missing: ${path}")
  endif()
endforeach()

if(failures)
  list(JOIN failures "\n  " joined)
  message(FATAL_ERROR "bad input case failed:\n  ${joined}\ncommand: ${COMMAND}\noutput:\n${all}")
endif()
if(EXPECTED_CODE EQUAL 0)
  message(STATUS "exit 0 as expected")
else()
  message(STATUS "exit ${code}: ${last}")
endif()
