# The bad-input catalogue's shared inputs (the bad_input.setup fixture), run as `cmake -P` with
# -DSHARED=<folder> -DAPPS=<folder of the executables>: tiny phantom exports that the cases copy
# and then break. Written once per ctest run; each case works on its own copy.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${SHARED}")
file(MAKE_DIRECTORY "${SHARED}")

function(shared_phantom name)
  execute_process(COMMAND "${APPS}/prepare" phantom --output "${SHARED}/${name}" --seed 5 ${ARGN}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "prepare phantom ${name} failed (exit ${code}):\n${out}${err}")
  endif()
  # The cases copy these folders; the marker would make a copy look like a prepare output.
  file(REMOVE "${SHARED}/${name}/.cltci-prepare")
endfunction()

# 4 patients x 2 images of 32x32 with label maps; 16-bit films; a 64-wide, 32-high one (another
# aspect; --size is height then width).
shared_phantom(png --patients 4 --images-per-patient 2 2 --size 32 32)
shared_phantom(png16 --patients 1 --images-per-patient 1 1 --size 32 32 --bits 16)
shared_phantom(wide --patients 1 --images-per-patient 1 1 --size 32 64)
if(WITH_DICOM)
  shared_phantom(dicom --patients 2 --images-per-patient 1 1 --size 32 32 --format dicom)
endif()
shared_phantom(montgomery --patients 2 --images-per-patient 1 1 --size 32 32 --format montgomery)
message(STATUS "shared inputs in ${SHARED}")
