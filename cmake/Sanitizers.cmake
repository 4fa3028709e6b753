# CLTCI_SANITIZE instruments the toolkit's own targets (library, apps, tests, benchmarks) with the
# compiler's sanitizers, e.g. -DCLTCI_SANITIZE="address;undefined" (scripts/sanitize.sh).
# LibTorch, OpenCV, DCMTK and yaml-cpp stay uninstrumented: ASan still intercepts their
# allocations, it only misses overflows inside their own code.
#
# The flags are directory-wide so that every target added below the root gets them, and they
# stay identical between the library and the executables that reuse its precompiled header.
# Only C++ is instrumented: nvcc does not take -fsanitize, and the CUDA kernels run on the GPU.
set(CLTCI_SANITIZE "" CACHE STRING
    "Sanitizers for the toolkit's own targets, e.g. address;undefined (empty: none)")

if(CLTCI_SANITIZE)
  set(cltci_known_sanitizers address undefined leak thread)
  foreach(sanitizer IN LISTS CLTCI_SANITIZE)
    if(NOT sanitizer IN_LIST cltci_known_sanitizers)
      message(FATAL_ERROR "CLTCI_SANITIZE: unknown sanitizer '${sanitizer}' "
                          "(known: ${cltci_known_sanitizers})")
    endif()
  endforeach()
  if("address" IN_LIST CLTCI_SANITIZE AND "thread" IN_LIST CLTCI_SANITIZE)
    message(FATAL_ERROR "CLTCI_SANITIZE: address and thread cannot be combined")
  endif()

  list(JOIN CLTCI_SANITIZE "$<COMMA>" cltci_sanitize_joined)
  set(cltci_sanitize_flags -fsanitize=${cltci_sanitize_joined} -fno-omit-frame-pointer)
  if("undefined" IN_LIST CLTCI_SANITIZE)
    # A report is a failure, not a warning that scrolls by: the test that triggers it fails.
    list(APPEND cltci_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  foreach(flag IN LISTS cltci_sanitize_flags)
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:${flag}>)
    add_link_options($<$<LINK_LANGUAGE:CXX>:${flag}>)
  endforeach()
  message(STATUS "cltci: sanitizers on the toolkit's targets: ${CLTCI_SANITIZE}")
endif()
