# Warnings are set per target, on our own targets only: torch's headers are not ours to fix.
function(cltci_enable_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                              -Wno-unused-parameter>)
  if(CLTCI_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
  if(CLTCI_TIDY)
    set_target_properties(${target} PROPERTIES CXX_CLANG_TIDY "${CLTCI_CLANG_TIDY_COMMAND}")
  endif()
endfunction()
