# End-to-end `pretrain` runs on the phantom, and values the data or encoder cannot use (exit 2).
set(cltci_pretrain_out ${CMAKE_CURRENT_BINARY_DIR}/cli-pretrain)
set(cltci_pretrain_phantom ${PROJECT_SOURCE_DIR}/configs/pretrain/phantom_cltci_moco_unet.yaml)
set(cltci_pretrain_fast --set optim.epochs=1 --set optim.warmup_epochs=0 --set data.source.patients=12
                        --set data.cache_dir=${cltci_pretrain_out}/cache)

cltci_expect_exit(cli.pretrain.phantom 0
                  "done: final loss .*encoder .*phantom_cltci_moco_unet/encoder.safetensors"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom} --overwrite --threads 1
                  --output ${cltci_pretrain_out} ${cltci_pretrain_fast})
set_tests_properties(cli.pretrain.phantom PROPERTIES FIXTURES_SETUP cli_pretrain_run)
# The encoder and the summary are on disk (md5sum fails on a missing file).
cltci_expect_exit(cli.pretrain.phantom_files 0 "encoder.safetensors.*summary.json"
                  ${CMAKE_COMMAND} -E md5sum
                  ${cltci_pretrain_out}/phantom_cltci_moco_unet/encoder.safetensors
                  ${cltci_pretrain_out}/phantom_cltci_moco_unet/summary.json)
# The same command again: the finished run is skipped.
cltci_expect_exit(cli.pretrain.phantom_finished 0 "is finished .*nothing to do"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom} --threads 1
                  --output ${cltci_pretrain_out} ${cltci_pretrain_fast})
set_tests_properties(cli.pretrain.phantom_files cli.pretrain.phantom_finished
                     PROPERTIES FIXTURES_REQUIRED cli_pretrain_run)

cltci_expect_exit(cli.pretrain.batch_too_large 2
                  "pretrain: optim.batch_size: 1000 is larger than the data set \\([0-9]+ images\\)"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad ${cltci_pretrain_fast}
                  --set optim.batch_size=1000)
cltci_expect_exit(cli.pretrain.patients_too_few 2
                  "pretrain: optim.batch_size: 64 = 32 patients x 2 images \\(method.images_per_patient\\), but the data set has only 12 patients"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad ${cltci_pretrain_fast}
                  --set method.name=cltci_simclr --set optim.batch_size=64)
cltci_expect_exit(cli.pretrain.image_size_stride 2
                  "pretrain: data.image_size: 72 is not a multiple of 16, the output stride of the unet encoder \\(try 80\\)"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad ${cltci_pretrain_fast}
                  --set data.image_size=72)
cltci_expect_exit(cli.pretrain.bad_temperature 2 "method.temperature=-1: method.temperature: must be > 0"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.temperature=-1)

# The pre-trained encoder's embedding: embeddings.csv, tsne.png, probes in summary.json.
cltci_expect_exit(cli.evaluate.embed 0 "same-patient retrieval of [0-9]+ images: top-1"
                  $<TARGET_FILE:evaluate> --embed
                  --pretrain-run ${cltci_pretrain_out}/phantom_cltci_moco_unet
                  --output ${cltci_pretrain_out} --overwrite --set embed.iterations=200)
set_tests_properties(cli.evaluate.embed PROPERTIES FIXTURES_REQUIRED cli_pretrain_run
                     FIXTURES_SETUP cli_embed_run)
cltci_expect_exit(cli.evaluate.embed_files 0 "embeddings.csv.*tsne.png"
                  ${CMAKE_COMMAND} -E md5sum
                  ${cltci_pretrain_out}/phantom_cltci_moco_unet_embed/embeddings.csv
                  ${cltci_pretrain_out}/phantom_cltci_moco_unet_embed/tsne.png)
set_tests_properties(cli.evaluate.embed_files PROPERTIES FIXTURES_REQUIRED cli_embed_run)
cltci_expect_exit(cli.evaluate.embed_without_run 2 "--embed: give the pre-training run with --pretrain-run DIR"
                  $<TARGET_FILE:evaluate> --embed --output ${cltci_pretrain_out}-bad)
cltci_expect_exit(cli.evaluate.embed_not_a_run 2 "pretrain_run: /nonexistent/run is not a finished pretrain run"
                  $<TARGET_FILE:evaluate> --embed --pretrain-run /nonexistent/run
                  --output ${cltci_pretrain_out}-bad)

# --overwrite never empties a folder the toolkit did not create, even one holding a config.yaml.
set(cltci_user_dir ${CMAKE_CURRENT_BINARY_DIR}/cli-user-folder)
file(WRITE ${cltci_user_dir}/mine/config.yaml "my own notes\n")
file(WRITE ${cltci_user_dir}/mine/thesis.tex "chapter 1\n")
file(WRITE ${cltci_user_dir}/thesis.ref "chapter 1\n")
cltci_expect_exit(cli.pretrain.overwrite_foreign_folder 2
                  "mine: --overwrite refused: the directory was not created by this toolkit"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom} --overwrite
                  --output ${cltci_user_dir} --set run.name=mine ${cltci_pretrain_fast})
add_test(NAME cli.pretrain.overwrite_foreign_folder_kept
         COMMAND ${CMAKE_COMMAND} -E compare_files ${cltci_user_dir}/thesis.ref
                 ${cltci_user_dir}/mine/thesis.tex)
set_tests_properties(cli.pretrain.overwrite_foreign_folder_kept PROPERTIES
                     DEPENDS cli.pretrain.overwrite_foreign_folder)

# Positive rules (issue #13): a window over the phantom's acquisition dates trains and reports
# its counts; values the rule or the data cannot use exit 2 naming the key.
cltci_expect_exit(cli.pretrain.positives_window 0
                  "\\[positives\\] window \\(max_days 3\\): [0-9.]+ positives per image.*\\[positives\\] epoch 1: [0-9.]+ positives per anchor from other images of the patient in the queue"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom} --threads 1
                  --output ${cltci_pretrain_out}-positives-window --overwrite ${cltci_pretrain_fast}
                  --set method.positives=window --set method.max_days=3)
cltci_expect_exit(cli.pretrain.positives_weighted_simclr 0
                  "\\[positives\\] weighted \\(time_scale_days 2\\).*\\[positives\\] epoch 1: [0-9.]+ positives per anchor from other images of the patient in the batch \\(weight"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom} --threads 1
                  --output ${cltci_pretrain_out}-positives-weighted --overwrite ${cltci_pretrain_fast}
                  --set method.name=cltci_simclr --set optim.batch_size=8
                  --set method.positives=weighted --set method.time_scale_days=2)
cltci_expect_exit(cli.pretrain.positives_study_without_studies 2
                  "method.positives: study needs study ids, but no image of the data set has one"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad ${cltci_pretrain_fast}
                  --set method.positives=study)
cltci_expect_exit(cli.pretrain.positives_window_without_days 2
                  "method.max_days: must be > 0 with positives: window"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.positives=window)
cltci_expect_exit(cli.pretrain.positives_negative_max_days 2
                  "method.max_days=-2: method.max_days: must be >= 0"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.positives=window
                  --set method.max_days=-2)
cltci_expect_exit(cli.pretrain.positives_weighted_without_scale 2
                  "method.time_scale_days: must be > 0 with positives: weighted"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.positives=weighted)
cltci_expect_exit(cli.pretrain.positives_not_cltci 2
                  "method.positives: only cltci_moco and cltci_simclr have patient positives"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.name=moco
                  --set method.positives=window --set method.max_days=3)
cltci_expect_exit(cli.pretrain.positives_unknown_rule 2
                  "method.positives: must be one of patient, study, window, weighted"
                  $<TARGET_FILE:pretrain> --config ${cltci_pretrain_phantom}
                  --output ${cltci_pretrain_out}-bad --set method.positives=session)
