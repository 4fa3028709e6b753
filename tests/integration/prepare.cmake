# Command-line tests of `prepare`: a phantom written and imported end to end, and the exact exit
# codes and messages of bad input.
set(cltci_prepare_dir ${CMAKE_CURRENT_BINARY_DIR}/prepare)

add_test(NAME cli.prepare.help COMMAND $<TARGET_FILE:prepare> --help)
add_test(NAME cli.prepare.version COMMAND $<TARGET_FILE:prepare> --version)
set_tests_properties(cli.prepare.version PROPERTIES PASS_REGULAR_EXPRESSION "cltci [0-9.]+ \\(LibTorch 2")
cltci_expect_exit(cli.prepare.no_subcommand 2 "A subcommand is required" $<TARGET_FILE:prepare>)

# 4 patients x 2 images; --overwrite so that a rerun replaces the previous run's output.
cltci_expect_exit(cli.prepare.phantom 0 "wrote 8 images of 4 phantom patients as png"
                  $<TARGET_FILE:prepare> phantom --output ${cltci_prepare_dir}/phantom --patients 4
                  --images-per-patient 2 2 --seed 5 --size 56 64 --overwrite)
cltci_expect_exit(cli.prepare.import_folder 0
                  "images: 8.patients: 4.patients with >= 2 time points: 4.labelled images: 0"
                  $<TARGET_FILE:prepare> import --kind folder --root ${cltci_prepare_dir}/phantom/images
                  --output ${cltci_prepare_dir}/imported --overwrite)
cltci_expect_exit(cli.prepare.check_phantom 0 "manifest.csv: OK: 8 images, 4 patients, 4 with >= 2 time points, 8 labelled"
                  $<TARGET_FILE:prepare> check --manifest ${cltci_prepare_dir}/phantom/manifest.csv --masks)
cltci_expect_exit(cli.prepare.not_empty 2 "prepare: '.*/phantom': output folder is not empty"
                  $<TARGET_FILE:prepare> phantom --output ${cltci_prepare_dir}/phantom)
set_tests_properties(cli.prepare.phantom PROPERTIES FIXTURES_SETUP prepare_phantom)
set_tests_properties(cli.prepare.import_folder cli.prepare.check_phantom cli.prepare.not_empty
                     PROPERTIES FIXTURES_REQUIRED prepare_phantom)

cltci_expect_exit(cli.prepare.missing_root 2 "prepare: '/nonexistent/cxr-set': data set folder not found"
                  $<TARGET_FILE:prepare> import --kind folder --root /nonexistent/cxr-set
                  --output ${cltci_prepare_dir}/never)
cltci_expect_exit(cli.prepare.unknown_format 2 "prepare: unknown phantom format 'tiff'"
                  $<TARGET_FILE:prepare> phantom --output ${cltci_prepare_dir}/tiff --format tiff)

# A 4x4 8-bit PNG label map holding one pixel of value 7 (CMake cannot write binary files, so
# printf's octal escapes do), used as its own image.
find_program(cltci_printf printf)
if(cltci_printf)
  file(MAKE_DIRECTORY ${cltci_prepare_dir}/bad)
  execute_process(COMMAND ${cltci_printf} "\\211\\120\\116\\107\\015\\012\\032\\012\\000\\000\\000\\015\\111\\110\\104\\122\\000\\000\\000\\004\\000\\000\\000\\004\\010\\000\\000\\000\\000\\214\\232\\301\\242\\000\\000\\000\\016\\111\\104\\101\\124\\170\\332\\143\\140\\100\\000\\166\\050\\015\\000\\000\\114\\000\\010\\011\\253\\365\\066\\000\\000\\000\\000\\111\\105\\116\\104\\256\\102\\140\\202"
                  OUTPUT_FILE ${cltci_prepare_dir}/bad/bad_mask.png)
  file(WRITE ${cltci_prepare_dir}/bad/manifest.csv
       "path,patient_id,mask\nbad_mask.png,x:1,bad_mask.png\n")
  cltci_expect_exit(cli.prepare.check_mask_value 2
                    "prepare: .*/bad/manifest.csv:2: mask 'bad_mask.png' has value 7 \\(allowed: 0, 1, 2, 255\\)"
                    $<TARGET_FILE:prepare> check --manifest ${cltci_prepare_dir}/bad/manifest.csv --masks)
endif()
# A size beyond any detector is refused at once (not after minutes of rendering), naming the option.
cltci_expect_exit(cli.prepare.phantom_too_large 2
                  "prepare: phantom size \\(prepare --size H W, data.source.native_size\\) must be at most 8192x8192, got 100000x100000"
                  $<TARGET_FILE:prepare> phantom --output ${CMAKE_CURRENT_BINARY_DIR}/cli-prepare-huge
                  --size 100000 100000)
