#!/usr/bin/env bash
# On a Debian 12 host with the toolkit's packages (scripts/setup.sh): gathers what the GPU-only
# variant needs and a bare CUDA machine lacks (headers and shared libraries of OpenCV core +
# imgproc, yaml-cpp, spdlog, fmt, giflib, CLI11 and GoogleTest), with relocatable CMake package
# files written here, into one folder (default .device/bundle, ~30 MB) that the `device` tool
# carries next to the working tree. scripts/device_check.sh builds against it there. The bundle
# leaves out OpenCV's imgcodecs, whose codec libraries alone take ~180 MB: the variant trains from
# caches and phantoms, and builds with CLTCI_IMAGE_CODECS=OFF.
# --binaries also builds the variant here, as device_check.sh would there (against the bundle and
# the project's torch, which is the GPU machine's torch 2.11.0+cu130; its CUDA code for compute
# capability 9.0, the H100's and H200's), and puts its three binaries in bin/ with the build's
# STAMP (source tree, torch, architecture): device_check.sh then runs them instead of spending
# minutes of the device's 15 compiling, and compiles only where the stamp does not fit.
#   scripts/device_bundle.sh [--binaries] [DIR]
# Environment: CLTCI_DEVICE_CUDA_ARCH (default 9.0), and scripts/env.sh's CLTCI_VENV.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "${root}/scripts/env.sh"
binaries=0
if [[ "${1:-}" == --binaries ]]; then
  binaries=1
  shift
fi
if [[ "${1:-}" == -* ]] || (($# > 1)); then
  echo "device_bundle: usage: scripts/device_bundle.sh [--binaries] [DIR], not '$*'" >&2
  exit 2
fi
bundle="${1:-${root}/.device/bundle}"
arch_dir=/usr/lib/x86_64-linux-gnu
# Of the device tool's 64 MiB carry: the working tree (~4 MiB) travels too.
limit_mib=58

for header in opencv4/opencv2/core.hpp yaml-cpp/yaml.h spdlog/spdlog.h fmt/core.h gif_lib.h \
  CLI/CLI.hpp gtest/gtest.h; do
  if [[ ! -e "/usr/include/${header}" ]]; then
    echo "device_bundle: /usr/include/${header} is missing; run scripts/setup.sh first" >&2
    exit 2
  fi
done

rm -rf "${bundle}"
# Files keep their timestamps (cp -p), so that a build against an earlier bundle stays up to date.
mkdir -p "${bundle}/include/opencv4/opencv2" "${bundle}/lib/cmake"
inc="${bundle}/include"
lib="${bundle}/lib"

# Headers: OpenCV's core and imgproc only (the rest of its 7.7 MB is modules we never include).
cp -rp /usr/include/opencv4/opencv2/{core,imgproc} "${inc}/opencv4/opencv2/"
cp -p /usr/include/opencv4/opencv2/{core.hpp,imgproc.hpp,opencv_modules.hpp,cvconfig.h} \
  "${inc}/opencv4/opencv2/" 2>/dev/null || true
for required in core.hpp imgproc.hpp opencv_modules.hpp; do
  [[ -e "${inc}/opencv4/opencv2/${required}" ]] || {
    echo "device_bundle: /usr/include/opencv4/opencv2/${required} not found" >&2
    exit 2
  }
done
cp -rp /usr/include/{yaml-cpp,spdlog,fmt,CLI,gtest,gmock} "${inc}/"
cp -p /usr/include/gif_lib.h "${inc}/"

# Shared libraries under their sonames, with every dependency that is not the C/C++ runtime
# (glibc, libstdc++ and libgcc come with any machine that runs torch).
declare -A copied=()
copy_with_deps() {
  local file="$1" name dep
  name="$(basename "${file}")"
  [[ -n "${copied[${name}]:-}" ]] && return
  copied["${name}"]=1
  cp -Lp "${file}" "${lib}/${name}"
  while read -r dep; do
    case "$(basename "${dep}")" in
      libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux* | \
        libstdc++.so.* | libgcc_s.so.*) ;;
      *) copy_with_deps "${dep}" ;;
    esac
  done < <(ldd "${file}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
}
for so in libopencv_core.so.406 libopencv_imgproc.so.406 libyaml-cpp.so.0.7 libspdlog.so.1.10 \
  libfmt.so.9 libgif.so.7; do
  copy_with_deps "${arch_dir}/${so}"
done
cp -p "${arch_dir}"/libgtest.a "${arch_dir}"/libgtest_main.a "${arch_dir}"/libgmock.a \
  "${arch_dir}"/libgmock_main.a "${lib}/"
# Link-time names (the linker looks for libX.so).
ln -s libgif.so.7 "${lib}/libgif.so"

# Package files: imported targets relative to their own location, so the folder may live anywhere.
package() {  # name, body (the prefix is ${_prefix})
  mkdir -p "${lib}/cmake/$1"
  {
    echo "# Written by scripts/device_bundle.sh: $1 from the bundle's include/ and lib/."
    echo 'get_filename_component(_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)'
    echo 'include(CMakeFindDependencyMacro)'
    printf '%s\n' "$2"
  } >"${lib}/cmake/$1/$1Config.cmake"
  if [[ -n "${3:-}" ]]; then
    cat >"${lib}/cmake/$1/$1ConfigVersion.cmake" <<EOF
set(PACKAGE_VERSION "$3")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION OR
   (PACKAGE_FIND_VERSION_MAJOR AND NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "${3%%.*}"))
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
EOF
  fi
}
shared() {  # target, soname, extra properties
  printf 'if(NOT TARGET %s)\n  add_library(%s SHARED IMPORTED)\n' "$1" "$1"
  printf '  set_target_properties(%s PROPERTIES IMPORTED_LOCATION "${_prefix}/lib/%s"\n' "$1" "$2"
  printf '    IMPORTED_SONAME "%s" %s)\nendif()\n' "$2" "${3:-}"
}
static() {  # target, archive, extra properties
  printf 'if(NOT TARGET %s)\n  add_library(%s STATIC IMPORTED)\n' "$1" "$1"
  printf '  set_target_properties(%s PROPERTIES IMPORTED_LOCATION "${_prefix}/lib/%s" %s)\n' \
    "$1" "$2" "${3:-}"
  printf 'endif()\n'
}
opencv_includes='INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include/opencv4"'
package OpenCV "$(shared opencv_core libopencv_core.so.406 "${opencv_includes}")
$(shared opencv_imgproc libopencv_imgproc.so.406 "${opencv_includes} INTERFACE_LINK_LIBRARIES opencv_core")
foreach(_component IN LISTS OpenCV_FIND_COMPONENTS)
  if(NOT TARGET opencv_\${_component})
    set(OpenCV_FOUND FALSE)
    set(OpenCV_NOT_FOUND_MESSAGE \"the device bundle has no OpenCV \${_component} (core and imgproc only)\")
  endif()
endforeach()
set(OpenCV_VERSION 4.6.0)
set(OpenCV_INCLUDE_DIRS \"\${_prefix}/include/opencv4\")
set(OpenCV_LIBS opencv_core opencv_imgproc)" 4.6.0
package yaml-cpp "$(shared yaml-cpp libyaml-cpp.so.0.7 'INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include"')
set(YAML_CPP_INCLUDE_DIR \"\${_prefix}/include\")
set(YAML_CPP_LIBRARIES yaml-cpp)" 0.7.0
package fmt "$(shared fmt::fmt libfmt.so.9 'INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include" INTERFACE_COMPILE_DEFINITIONS FMT_SHARED')" 9.1.0
package spdlog "find_dependency(Threads)
find_dependency(fmt)
$(shared spdlog::spdlog libspdlog.so.1.10 'INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include" INTERFACE_COMPILE_DEFINITIONS "SPDLOG_SHARED_LIB;SPDLOG_COMPILED_LIB;SPDLOG_FMT_EXTERNAL" INTERFACE_LINK_LIBRARIES "Threads::Threads;fmt::fmt"')" 1.10.0
package CLI11 'if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include")
endif()' 2.1.2
gtest_props='INTERFACE_INCLUDE_DIRECTORIES "${_prefix}/include" INTERFACE_LINK_LIBRARIES Threads::Threads'
package GTest "find_dependency(Threads)
$(static GTest::gtest libgtest.a "${gtest_props}")
$(static GTest::gtest_main libgtest_main.a 'INTERFACE_LINK_LIBRARIES GTest::gtest')
$(static GTest::gmock libgmock.a 'INTERFACE_LINK_LIBRARIES GTest::gtest')
$(static GTest::gmock_main libgmock_main.a 'INTERFACE_LINK_LIBRARIES GTest::gmock')" 1.12.1

cat >"${bundle}/README" <<EOF
Written by scripts/device_bundle.sh on $(hostname) ($(. /etc/os-release && echo "${PRETTY_NAME}"),
glibc $(ldd --version | head -n 1 | awk '{print $NF}')) on $(date -u +%Y-%m-%dT%H:%M:%SZ).
Headers and shared libraries of Debian's packages for the GPU-only variant of the toolkit; the
libraries keep their Debian licences (/usr/share/doc/<package>/copyright on that host).
EOF
if ((binaries)); then
  python="${CLTCI_VENV}/bin/python"
  if [[ ! -x "${python}" ]]; then
    echo "device_bundle: no project venv at ${CLTCI_VENV}; run scripts/setup.sh first" >&2
    exit 2
  fi
  build="${root}/.device/build"
  # The build's logs stay beside the build, not in a device run's $OUT.
  OUT="${build}/host-output" PYTHON="${python}" bash "${root}/scripts/device_check.sh" \
    --phase build --compile --bundle "${bundle}" --build "${build}" \
    --cuda-arch "${CLTCI_DEVICE_CUDA_ARCH:-9.0}"
  mkdir -p "${bundle}/bin"
  cp "${build}/tests/cltci_tests" "${build}/bench/cltci_pretrain_bench" \
    "${build}/bench/cltci_data_bench" "${bundle}/bin/"
  cp "${build}/STAMP" "${bundle}/bin/STAMP"
  sed 's/^/device_bundle: binaries: /' "${bundle}/bin/STAMP" >&2
fi
size_kib="$(du -sk "${bundle}" | cut -f1)"
echo "device_bundle: ${bundle}: $((size_kib / 1024)) MiB, ${#copied[@]} shared libraries" >&2
if ((size_kib > limit_mib * 1024)); then
  echo "device_bundle: larger than ${limit_mib} MiB: the device tool could not carry it" >&2
  exit 1
fi
