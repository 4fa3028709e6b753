# LibTorch's include directory ships its own {fmt} (12.x), and it is searched before /usr/include,
# so Debian's spdlog 1.10 (built against fmt 9) would compile against the wrong fmt and fail.
# torch/torch.h itself never includes fmt, so a directory holding only a link to the system's fmt,
# searched first, gives spdlog the fmt it was built with and changes nothing for torch.
function(cltci_make_fmt_shadow out_dir)
  find_package(fmt CONFIG REQUIRED)
  get_target_property(fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  set(fmt_header_dir "")
  foreach(dir IN LISTS fmt_includes)
    if(EXISTS "${dir}/fmt/core.h")
      set(fmt_header_dir "${dir}/fmt")
      break()
    endif()
  endforeach()
  if(NOT fmt_header_dir)
    message(FATAL_ERROR "cltci: cannot locate the system fmt headers (searched ${fmt_includes})")
  endif()
  set(shadow "${CMAKE_CURRENT_BINARY_DIR}/cltci-fmt-shadow")
  file(MAKE_DIRECTORY "${shadow}")
  file(CREATE_LINK "${fmt_header_dir}" "${shadow}/fmt" SYMBOLIC)
  set(${out_dir} "${shadow}" PARENT_SCOPE)
endfunction()
