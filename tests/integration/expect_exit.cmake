# Runs COMMAND (a ;-list) and checks its exit code equals EXPECTED_CODE and that its combined
# output matches EXPECTED_REGEX. ctest's own WILL_FAIL cannot tell exit code 2 from 1.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT code EQUAL EXPECTED_CODE)
  message(FATAL_ERROR "exit code ${code}, expected ${EXPECTED_CODE}; output:\n${all}")
endif()
if(NOT all MATCHES "${EXPECTED_REGEX}")
  message(FATAL_ERROR "output does not match '${EXPECTED_REGEX}':\n${all}")
endif()
message(STATUS "exit ${code} as expected")
