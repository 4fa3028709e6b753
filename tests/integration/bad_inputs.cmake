# The bad-input catalogue (issue #14): broken configs, data and runs fed to the executables. Each
# case (ctest name bad_input.<area>.<case>) runs in a fresh folder that its SETUP fills, and
# bad_input.cmake checks the exit code, the one error line naming the file, line or key, that no
# file that was there changed, and that nothing new or half-written is left (ALLOW names what
# may appear: an interrupted run's directory; or the data cache, which a valid data set fills
# before a later check fails). Commands run inside the case folder, so paths are relative.
set(cltci_bad_root ${CMAKE_CURRENT_BINARY_DIR}/bad-input)
set(cltci_bad_shared ${cltci_bad_root}/shared)
set(cltci_bad_data ${CMAKE_CURRENT_LIST_DIR}/data/bad)

add_test(NAME bad_input.setup
         COMMAND ${CMAKE_COMMAND} -DSHARED=${cltci_bad_shared} -DAPPS=$<TARGET_FILE_DIR:prepare>
                 -DWITH_DICOM=${CLTCI_WITH_DICOM}
                 -P ${CMAKE_CURRENT_LIST_DIR}/bad_input_shared.cmake)
set_tests_properties(bad_input.setup PROPERTIES FIXTURES_SETUP cltci_bad_input TIMEOUT 120)

# cltci_bad_input(<area>.<case> CODE <exit code> MESSAGE <regex of the error line>
#                 [SETUP <cmake code filling ${WORK}>] [ALLOW <regex of new paths>]
#                 [REQUIRE <paths that must exist after>...] [APP <error prefix>]
#                 COMMAND <command>...)
function(cltci_bad_input name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "CODE;MESSAGE;ALLOW;APP;TIMEOUT"
                        "SETUP;REQUIRE;COMMAND")
  set(setup_file ${cltci_bad_root}/setup/${name}.cmake)
  list(JOIN arg_SETUP "\n" setup)
  file(WRITE ${setup_file} "${setup}\n")
  if(NOT arg_APP)
    list(GET arg_COMMAND 0 first)
    string(REGEX REPLACE "^\\$<TARGET_FILE:([a-z]+)>$" "\\1" arg_APP "${first}")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 60)
  endif()
  add_test(NAME bad_input.${name}
           COMMAND ${CMAKE_COMMAND} -DWORK=${cltci_bad_root}/cases/${name} -DSETUP=${setup_file}
                   -DAPPS=$<TARGET_FILE_DIR:prepare> -DDATA=${cltci_bad_data}
                   -DSHARED=${cltci_bad_shared} -DAPP=${arg_APP} -DEXPECTED_CODE=${arg_CODE}
                   -DEXPECTED_REGEX=${arg_MESSAGE} -DALLOW=${arg_ALLOW} "-DREQUIRE=${arg_REQUIRE}"
                   "-DCOMMAND=${arg_COMMAND}" -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/bad_input.cmake)
  set_tests_properties(bad_input.${name} PROPERTIES FIXTURES_REQUIRED cltci_bad_input
                       TIMEOUT ${arg_TIMEOUT} LABELS bad_input)
endfunction()

set(bad_pretrain $<TARGET_FILE:pretrain>)
set(bad_finetune $<TARGET_FILE:finetune>)
set(bad_evaluate $<TARGET_FILE:evaluate>)
set(bad_prepare $<TARGET_FILE:prepare>)
set(bad_cache_allow "^cache(/|$)")
# A pre-training that takes well under a second per epoch: the phantom at 32x32.
set(bad_pretrain_small --config ${PROJECT_SOURCE_DIR}/configs/pretrain/phantom_cltci_moco_unet.yaml
    --threads 1 --set data.cache_dir=cache --set optim.warmup_epochs=0
    --set data.source.patients=8 --set data.image_size=32 --set optim.batch_size=8
    --set method.queue_size=16)
set(bad_finetune_small --output runs --threads 1 --set data.cache_dir=cache
    --set data.image_size=32 --set model.base_channels=4 --set model.depth=2 --set optim.epochs=1)
# A manifest source of the shared phantom copied to ph/ (manifest.csv with label maps).
set(bad_copy_phantom [=[file(COPY "${SHARED}/png/" DESTINATION "${WORK}/ph")]=])

# ---- config: the YAML file and --set ----------------------------------------------------------
cltci_bad_input(config.unknown_key CODE 2
                MESSAGE "c\\.yaml:2:3: optim\\.lrr: unknown key; did you mean 'optim\\.lr'\\?"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n  lrr: 0.1\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.unknown_section CODE 2 MESSAGE "c\\.yaml:1:1: optimiser: unknown"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optimiser:\n  lr: 0.1\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.wrong_type CODE 2
                MESSAGE "c\\.yaml:2:7: optim\\.lr: expected a number, got 'fast'"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n  lr: fast\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.list_for_a_number CODE 2 MESSAGE "c\\.yaml:2:15: data\\.image_size: "
                SETUP [=[file(WRITE "${WORK}/c.yaml" "data:\n  image_size: [64, 64]\n")]=]
                COMMAND ${bad_finetune} --config c.yaml --output runs)
cltci_bad_input(config.out_of_range CODE 2
                MESSAGE "c\\.yaml:2:16: method\\.temperature: must be > 0 \\(got 0\\)"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "method:\n  temperature: 0\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.negative_epochs CODE 2 MESSAGE "c\\.yaml:2:11: optim\\.epochs: must be"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n  epochs: -3\n")]=]
                COMMAND ${bad_finetune} --config c.yaml --output runs)
cltci_bad_input(config.malformed_yaml CODE 2 MESSAGE "c\\.yaml:1:[0-9]+: YAML syntax error"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim: {lr: [1, 2}\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.tab_indent CODE 2 MESSAGE "c\\.yaml:2:[0-9]+: YAML syntax error"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n\tlr: 0.1\n")]=]
                COMMAND ${bad_evaluate} --config c.yaml --output runs)
cltci_bad_input(config.empty CODE 2 MESSAGE "c\\.yaml: the config( file)? is empty"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.comments_only CODE 2 MESSAGE "c\\.yaml: the config( file)? is empty"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "# nothing yet\n")]=]
                COMMAND ${bad_finetune} --config c.yaml --output runs)
# A PNG given as the config: binary, not YAML.
cltci_bad_input(config.binary CODE 2
                MESSAGE "c\\.yaml: not a YAML text file \\(binary data at byte 0\\)"
                SETUP [=[file(COPY_FILE "${SHARED}/png/images/p0000/000.png" "${WORK}/c.yaml")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.control_character CODE 2
                MESSAGE "c\\.yaml: not a YAML text file \\(binary data at byte 14\\)"
                SETUP [=[string(ASCII 1 soh)
                         file(WRITE "${WORK}/c.yaml" "run:\n  name: a${soh}\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.directory CODE 2 MESSAGE "confs: a directory, not a config file"
                SETUP [=[file(MAKE_DIRECTORY "${WORK}/confs")]=]
                COMMAND ${bad_finetune} --config confs --output runs)
cltci_bad_input(config.duplicate_key CODE 2 MESSAGE "c\\.yaml:3:[0-9]+: .*duplicate key"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n  lr: 0.1\n  lr: 0.2\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs)
cltci_bad_input(config.not_a_mapping CODE 2
                MESSAGE "c\\.yaml(:1:1)?: .*mapping"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "- optim\n- data\n")]=]
                COMMAND ${bad_finetune} --config c.yaml --output runs)
cltci_bad_input(config.set_without_value CODE 2 MESSAGE "--set optim\\.lr: "
                COMMAND ${bad_pretrain} --output runs --set optim.lr)
cltci_bad_input(config.set_unknown_key CODE 2
                MESSAGE "--set optim\\.lrr=1: optim\\.lrr: unknown key; did you mean 'optim\\.lr'"
                COMMAND ${bad_finetune} --output runs --set optim.lrr=1)
cltci_bad_input(config.set_wrong_type CODE 2
                MESSAGE "--set optim\\.epochs=many: optim\\.epochs: expected an integer"
                COMMAND ${bad_pretrain} --output runs --set optim.epochs=many)
cltci_bad_input(config.set_out_of_range CODE 2 MESSAGE "--set optim\\.lr=-1: optim\\.lr: must be"
                COMMAND ${bad_finetune} --output runs --set optim.lr=-1)
# The file is named with its own line, not only the --set that conflicts with it.
cltci_bad_input(config.set_conflicts_with_file CODE 2
                MESSAGE "optim\\.warmup_epochs: must not exceed optim\\.epochs"
                SETUP [=[file(WRITE "${WORK}/c.yaml" "optim:\n  warmup_epochs: 5\n")]=]
                COMMAND ${bad_pretrain} --config c.yaml --output runs --set optim.epochs=2)
cltci_bad_input(config.missing_file CODE 2 MESSAGE "missing\\.yaml: config file not found"
                COMMAND ${bad_finetune} --config missing.yaml --output runs)

# ---- data: manifests -------------------------------------------------------------------------
cltci_bad_input(data.manifest_missing_column CODE 2
                MESSAGE "m\\.csv:1: header lacks the required column 'patient_id'"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(WRITE "${WORK}/ph/m.csv" "path,order\nimages/p0000/000.png,0\n")]=]
                COMMAND ${bad_prepare} check --manifest ph/m.csv)
cltci_bad_input(data.manifest_unknown_column CODE 2
                MESSAGE "m\\.csv:1: unknown column 'colour' \\(known: path, patient_id"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(WRITE "${WORK}/ph/m.csv" "path,patient_id,colour\nimages/p0000/000.png,a,red\n")]=]
                COMMAND ${bad_prepare} check --manifest ph/m.csv)
cltci_bad_input(data.manifest_zero_bytes CODE 2 MESSAGE "m\\.csv:1: empty manifest"
                SETUP [=[file(WRITE "${WORK}/m.csv" "")]=]
                COMMAND ${bad_pretrain} --output runs ${bad_pretrain_small} --set data.source.type=manifest
                        --set data.source.path=m.csv)
cltci_bad_input(data.manifest_unbalanced_quote CODE 2 MESSAGE "m\\.csv:2: unterminated quote"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(WRITE "${WORK}/ph/m.csv" "path,patient_id\n\"images/p0000/000.png,a\n")]=]
                COMMAND ${bad_prepare} check --manifest ph/m.csv)
cltci_bad_input(data.manifest_missing_image CODE 2
                MESSAGE "m\\.csv:3: image 'images/p0000/009\\.png' does not exist"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(WRITE "${WORK}/ph/m.csv" "path,patient_id\nimages/p0000/000.png,a\nimages/p0000/009.png,a\n")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} --set data.source.type=manifest
                        --set data.source.path=ph/m.csv)

# ---- data: images and masks (read when the cache is built, or by check --masks) -------------
# The phantom's manifest with its last image replaced by a broken file.
set(bad_break_last [=[
file(READ "${WORK}/ph/manifest.csv" manifest)
string(REPLACE "images/p0003/001.png" "broken.png" manifest "${manifest}")
file(WRITE "${WORK}/ph/manifest.csv" "${manifest}")
]=])
cltci_bad_input(data.image_truncated CODE 2 MESSAGE "broken\\.png': truncated PNG"
                SETUP "${bad_copy_phantom}\n${bad_break_last}\n"
                      [=[file(COPY_FILE "${WORK}/ph/images/p0000/000.png" "${WORK}/ph/broken.png")
                         bad_input_truncate("${WORK}/ph/broken.png" 100)]=]
                COMMAND ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=1
                        --set data.source.type=manifest --set data.source.path=ph/manifest.csv)
# Zero bytes (an interrupted copy): found by the manifest check, before any image is decoded.
cltci_bad_input(data.image_zero_bytes CODE 2
                MESSAGE "manifest\\.csv:[0-9]+: image '[^']*broken\\.png' is empty \\(0 bytes\\)"
                SETUP "${bad_copy_phantom}\n${bad_break_last}\n"
                      [=[file(WRITE "${WORK}/ph/broken.png" "")]=]
                COMMAND ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=1
                        --set data.source.type=manifest --set data.source.path=ph/manifest.csv)
cltci_bad_input(data.check_zero_bytes CODE 2
                MESSAGE "manifest\\.csv:[0-9]+: image '[^']*broken\\.png' is empty \\(0 bytes\\)"
                SETUP "${bad_copy_phantom}\n${bad_break_last}\n"
                      [=[file(WRITE "${WORK}/ph/broken.png" "")]=]
                COMMAND ${bad_prepare} check --manifest ph/manifest.csv)
cltci_bad_input(data.image_mislabelled CODE 2 MESSAGE "broken\\.png': unknown image format"
                SETUP "${bad_copy_phantom}\n${bad_break_last}\n"
                      [=[file(WRITE "${WORK}/ph/broken.png" "a text file named .png\n")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} --set data.source.type=manifest
                        --set data.source.path=ph/manifest.csv)
cltci_bad_input(data.jsrt_wrong_size CODE 2
                MESSAGE "JPCLN001\\.IMG': a JSRT \\.IMG must be 8388608 bytes \\(2048x2048 big-endian 16-bit\\), found 4096"
                SETUP [=[file(WRITE "${WORK}/jsrt/All247images/JPCLN001.IMG" "")
                         bad_input_truncate("${WORK}/jsrt/All247images/JPCLN001.IMG" 4096)]=]
                COMMAND ${bad_prepare} import --kind jsrt --root jsrt --output out)
cltci_bad_input(data.mask_value CODE 2
                MESSAGE "m\\.csv:2: mask '.*7\\.png' has value 7 \\(allowed: 0, 1, 2, 255\\)"
                SETUP [=[
# A 4x4 8-bit PNG label map holding one pixel of value 7, used as its own image.
bad_input_bytes("${WORK}/7.png" "\\211\\120\\116\\107\\015\\012\\032\\012\\000\\000\\000\\015\\111\\110\\104\\122\\000\\000\\000\\004\\000\\000\\000\\004\\010\\000\\000\\000\\000\\214\\232\\301\\242\\000\\000\\000\\016\\111\\104\\101\\124\\170\\332\\143\\140\\100\\000\\166\\050\\015\\000\\000\\114\\000\\010\\011\\253\\365\\066\\000\\000\\000\\000\\111\\105\\116\\104\\256\\102\\140\\202")
file(WRITE "${WORK}/m.csv" "path,patient_id,mask\n7.png,x:1,7.png\n")
]=]
                COMMAND ${bad_prepare} check --manifest m.csv --masks)
cltci_bad_input(data.mask_rgb CODE 2
                MESSAGE "manifest\\.csv:2: mask '.*rgb_mask\\.png' has value 76 \\(allowed: 0, 1, 2, 255\\)"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(COPY_FILE "${DATA}/rgb_mask.png" "${WORK}/ph/rgb_mask.png")
                         file(READ "${WORK}/ph/manifest.csv" manifest)
                         string(REPLACE "masks/p0000/000.png" "rgb_mask.png" manifest "${manifest}")
                         file(WRITE "${WORK}/ph/manifest.csv" "${manifest}")]=]
                COMMAND ${bad_prepare} check --manifest ph/manifest.csv --masks)
cltci_bad_input(data.mask_16bit CODE 2 MESSAGE "mask16\\.png': mask must be 8-bit \\(found 16-bit\\)"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(COPY_FILE "${SHARED}/png16/images/p0000/000.png" "${WORK}/ph/mask16.png")
                         file(READ "${WORK}/ph/manifest.csv" manifest)
                         string(REPLACE "masks/p0002/001.png" "mask16.png" manifest "${manifest}")
                         file(WRITE "${WORK}/ph/manifest.csv" "${manifest}")]=]
                COMMAND ${bad_prepare} check --manifest ph/manifest.csv --masks)
cltci_bad_input(data.mask_aspect CODE 2
                MESSAGE "manifest\\.csv:[0-9]+: mask .*wide\\.png is 64x32 but the image is 32x32 \\(aspect ratios differ\\)"
                SETUP "${bad_copy_phantom}\n"
                      [=[file(COPY_FILE "${SHARED}/wide/masks/p0000/000.png" "${WORK}/ph/wide.png")
                         file(READ "${WORK}/ph/manifest.csv" manifest)
                         string(REPLACE "masks/p0001/000.png" "wide.png" manifest "${manifest}")
                         file(WRITE "${WORK}/ph/manifest.csv" "${manifest}")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} --set data.source.type=manifest
                        --set data.source.path=ph/manifest.csv)

# ---- data: folds and label budgets ------------------------------------------------------------
cltci_bad_input(data.too_few_patients_for_folds CODE 2
                MESSAGE "folds: folds \\(5\\) exceed the 3 patients of the data set"
                ALLOW "${bad_cache_allow}"
                COMMAND ${bad_finetune} ${bad_finetune_small} --set data.source.patients=3
                        --set folds.k=5)
cltci_bad_input(data.budget_larger_than_fold CODE 2
                MESSAGE "budgets: labelled images M=500 exceeds the [0-9]+ training images of fold 0"
                ALLOW "${bad_cache_allow}"
                COMMAND ${bad_finetune} ${bad_finetune_small} --set data.source.patients=6
                        --set folds.k=2 --set "budgets=[500]")

# ---- data: importers --------------------------------------------------------------------------
cltci_bad_input(data.folder_without_images CODE 2 MESSAGE "no images found under empty"
                SETUP [=[file(MAKE_DIRECTORY "${WORK}/empty/p0001")
                         file(WRITE "${WORK}/empty/p0001/notes.txt" "no films yet\n")]=]
                COMMAND ${bad_prepare} import --kind folder --root empty --output out)
# The same into an earlier import's folder with --overwrite: the earlier manifest must survive.
cltci_bad_input(data.folder_without_images_overwrite CODE 2 MESSAGE "no images found under empty"
                SETUP [=[file(MAKE_DIRECTORY "${WORK}/empty/p0001")
                         bad_input_run("${APPS}/prepare" import --kind folder --root "${SHARED}/png/images" --output out)]=]
                COMMAND ${bad_prepare} import --kind folder --root empty --output out --overwrite)
cltci_bad_input(data.folder_missing_root CODE 2 MESSAGE "'nowhere': data set folder not found"
                COMMAND ${bad_prepare} import --kind folder --root nowhere --output out)
cltci_bad_input(data.montgomery_missing_mask CODE 2
                MESSAGE "MCUCXR_0002_1\\.png': missing lung mask \\(the other side exists\\)"
                SETUP [=[file(COPY "${SHARED}/montgomery/" DESTINATION "${WORK}/mg")
                         file(REMOVE "${WORK}/mg/MontgomerySet/ManualMask/rightMask/MCUCXR_0002_1.png")
                         file(MAKE_DIRECTORY "${WORK}/out")]=]
                COMMAND ${bad_prepare} import --kind montgomery --root mg/MontgomerySet --output out)
cltci_bad_input(data.montgomery_swapped_sides CODE 2
                MESSAGE "MCUCXR_0001_0\\.png': the left-lung mask lies on the image's left"
                SETUP [=[file(COPY "${SHARED}/montgomery/" DESTINATION "${WORK}/mg")
                         set(masks "${WORK}/mg/MontgomerySet/ManualMask")
                         file(RENAME "${masks}/leftMask/MCUCXR_0001_0.png" "${WORK}/left.png")
                         file(RENAME "${masks}/rightMask/MCUCXR_0001_0.png" "${masks}/leftMask/MCUCXR_0001_0.png")
                         file(RENAME "${WORK}/left.png" "${masks}/rightMask/MCUCXR_0001_0.png")]=]
                COMMAND ${bad_prepare} import --kind montgomery --root mg/MontgomerySet --output out)
# A patient folder whose name is not UTF-8 (Latin-1 'é' as one byte) imports as it is.
cltci_bad_input(data.non_utf8_path CODE 0 MESSAGE "images: 4\npatients: 2\n"
                ALLOW "^out(/|$)"
                SETUP [=[file(COPY "${SHARED}/png/images/p0001" DESTINATION "${WORK}/in")
                         bad_input_run(sh -c "cp -r '${SHARED}/png/images/p0000' \"in/ren$(printf '\\351')\"")]=]
                COMMAND ${bad_prepare} import --kind folder --root in --output out)
cltci_bad_input(data.non_utf8_missing_image CODE 2 MESSAGE "m\\.csv:2: image '.*' does not exist"
                SETUP [=[bad_input_run(sh -c "printf 'path,patient_id\\nren\\351.png,a\\n' > m.csv")]=]
                COMMAND ${bad_prepare} check --manifest m.csv)
if(CLTCI_WITH_DICOM)
  cltci_bad_input(data.dicom_corrupt CODE 2
                  MESSAGE "IM0001\\.dcm': not readable DICOM"
                  SETUP [=[file(COPY "${SHARED}/dicom/" DESTINATION "${WORK}/dcm")
                           # Garbage after the preamble's DICM magic.
                           bad_input_run(dd if=/dev/zero of=dcm/p0000/IM0001.dcm bs=1 seek=132 count=600 conv=notrunc)]=]
                  COMMAND ${bad_prepare} import --kind dicom --root dcm --output out)
  cltci_bad_input(data.dicom_truncated CODE 2 MESSAGE "IM0001\\.dcm': "
                  SETUP [=[file(COPY "${SHARED}/dicom/" DESTINATION "${WORK}/dcm")
                           bad_input_truncate("${WORK}/dcm/p0001/IM0001.dcm" 1000)]=]
                  COMMAND ${bad_prepare} import --kind dicom --root dcm --output out --verify-images)
  cltci_bad_input(data.dicom_without_patient_id CODE 2
                  MESSAGE "IM0001\\.dcm': no PatientID \\(0010,0020\\)"
                  SETUP [=[file(COPY "${SHARED}/dicom/" DESTINATION "${WORK}/dcm")
                           # (0010,0020) LO PatientID becomes (0010,0021) Issuer of Patient ID.
                           bad_input_replace_hex("${WORK}/dcm/p0000/IM0001.dcm" "100020004c4f" "100021004c4f")]=]
                  COMMAND ${bad_prepare} import --kind dicom --root dcm --output out)
endif()

# ---- runs: weights, existing runs, outputs ---------------------------------------------------
# safetensors: an 8-byte little-endian header length, the JSON header, the data.
set(bad_pretrained --set init.type=pretrained --set init.pretrain_run=pre)
cltci_bad_input(run.weights_missing CODE 2
                MESSAGE "init\\.pretrain_run: pre/encoder\\.safetensors not found"
                SETUP [=[file(MAKE_DIRECTORY "${WORK}/pre")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} ${bad_pretrained})
cltci_bad_input(run.weights_empty CODE 2
                MESSAGE "pre/encoder\\.safetensors: truncated safetensors file \\(0 bytes"
                SETUP [=[file(WRITE "${WORK}/pre/encoder.safetensors" "")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} ${bad_pretrained})
cltci_bad_input(run.weights_corrupt CODE 2 MESSAGE "pre/encoder\\.safetensors: "
                SETUP [=[file(WRITE "${WORK}/pre/encoder.safetensors" "not a model, a note about one\n")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} ${bad_pretrained})
cltci_bad_input(run.weights_truncated CODE 2
                MESSAGE "pre/encoder\\.safetensors: truncated safetensors file: tensor 'w'"
                SETUP [=[bad_input_bytes("${WORK}/pre/encoder.safetensors" "\\100\\000\\000\\000\\000\\000\\000\\000{\"w\":{\"dtype\":\"F32\",\"shape\":[10,10],\"data_offsets\":[0,400]}}    \\000\\000\\000\\000")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} ${bad_pretrained})
cltci_bad_input(run.weights_header_2_60 CODE 2
                MESSAGE "pre/encoder\\.safetensors: truncated safetensors file: the header needs 1152921504606846976 bytes"
                SETUP [=[bad_input_bytes("${WORK}/pre/encoder.safetensors" "\\000\\000\\000\\000\\000\\000\\000\\020{}")]=]
                COMMAND ${bad_finetune} ${bad_finetune_small} ${bad_pretrained})
cltci_bad_input(run.checkpoint_header_2_60 CODE 2
                MESSAGE "model\\.safetensors: truncated safetensors file: the header needs 1152921504606846976 bytes"
                SETUP "${bad_copy_phantom}\n"
                      [=[bad_input_bytes("${WORK}/model.safetensors" "\\000\\000\\000\\000\\000\\000\\000\\020{}")]=]
                COMMAND ${bad_evaluate} --checkpoint model.safetensors --images ph/images/p0000
                        --output out)
cltci_bad_input(run.checkpoint_corrupt CODE 2 MESSAGE "model\\.safetensors: "
                SETUP "${bad_copy_phantom}\n"
                      [=[file(WRITE "${WORK}/model.safetensors" "{\"weights\": \"elsewhere\"}\n")]=]
                COMMAND ${bad_evaluate} --checkpoint model.safetensors --images ph/images/p0000
                        --output out)
# An unfinished run made with other settings: resuming it with these would mix two configs.
cltci_bad_input(run.different_config CODE 2
                MESSAGE "runs/phantom_cltci_moco_unet/config\\.yaml:[0-9]+: the existing run was made with another config \\('  lr: 0\\.01  # peak learning rate' now '  lr: 0\\.5  # peak"
                SETUP [=[
# The stored config: the command's own dump without its last --set optim.lr=0.5.
set(earlier ${COMMAND})
list(POP_BACK earlier)
list(POP_BACK earlier)
bad_input_run_to("${WORK}/runs/phantom_cltci_moco_unet/config.yaml" ${earlier} --dump-config)
]=]
                COMMAND ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=1 --set optim.lr=0.5)
cltci_bad_input(run.output_under_a_file CODE 2
                MESSAGE "notes\\.txt/runs/phantom_cltci_moco_unet: cannot create directory: Not a directory"
                SETUP [=[file(WRITE "${WORK}/notes.txt" "not a folder\n")]=]
                COMMAND ${bad_pretrain} --output notes.txt/runs ${bad_pretrain_small}
                        --set optim.epochs=1)
cltci_bad_input(run.finetune_output_under_a_file CODE 2
                MESSAGE "notes\\.txt/runs/[a-z_]+: cannot create directory: Not a directory"
                SETUP [=[file(WRITE "${WORK}/notes.txt" "not a folder\n")]=]
                COMMAND ${bad_finetune} --output notes.txt/runs --threads 1
                        --set data.cache_dir=cache --set data.image_size=32)
cltci_bad_input(run.run_directory_is_a_file CODE 2
                MESSAGE "runs/phantom_cltci_moco_unet: exists and is not a directory"
                SETUP [=[file(WRITE "${WORK}/runs/phantom_cltci_moco_unet" "not a folder\n")]=]
                COMMAND ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=1)
cltci_bad_input(run.prepare_output_is_a_file CODE 2
                MESSAGE "'out': output exists and is not a folder"
                SETUP [=[file(WRITE "${WORK}/out" "not a folder\n")]=]
                COMMAND ${bad_prepare} phantom --output out --patients 2 --size 32 32)
cltci_bad_input(run.report_corrupt_summary CODE 2
                MESSAGE "ev/summary\\.json: cannot read evaluation summary"
                SETUP [=[file(WRITE "${WORK}/ev/summary.json" "{\"cells\": [\n")]=]
                COMMAND $<TARGET_FILE:report> ev --output table.md)

# ---- runs: signals ----------------------------------------------------------------------------
set(bad_signal sh ${CMAKE_CURRENT_LIST_DIR}/bad_input_signal.sh)
cltci_bad_input(run.sigint_saves_a_checkpoint CODE 130 APP pretrain
                MESSAGE "error interrupted; checkpoint saved to runs/phantom_cltci_moco_unet/checkpoint\\.pt"
                ALLOW "^(runs|cache)(/|$)"
                REQUIRE runs/phantom_cltci_moco_unet/checkpoint.pt
                        runs/phantom_cltci_moco_unet/config.yaml
                COMMAND ${bad_signal} INT runs/phantom_cltci_moco_unet/checkpoint.pt
                        ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=100000
                        --set run.checkpoint_every=1)
cltci_bad_input(run.sigkill_then_resume CODE 0 APP pretrain
                MESSAGE "\\(resume\\).*done: final loss"
                ALLOW "^(runs|cache)(/|$)"
                REQUIRE runs/phantom_cltci_moco_unet/encoder.safetensors
                        runs/phantom_cltci_moco_unet/summary.json
                COMMAND ${bad_signal} KILL runs/phantom_cltci_moco_unet/checkpoint.pt
                        ${bad_pretrain} --output runs ${bad_pretrain_small} --set optim.epochs=30
                        --set run.checkpoint_every=1 --set data.image_size=64
                        --set data.source.patients=12)
