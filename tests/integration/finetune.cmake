# finetune / evaluate from the command line: bad input exits 2 with a message naming the key.
set(cltci_ft_out ${CMAKE_CURRENT_BINARY_DIR}/cli-finetune)
set(cltci_ft_small --output ${cltci_ft_out} --set data.cache_dir=${cltci_ft_out}/cache
    --set data.image_size=32 --set data.source.patients=6 --set model.base_channels=4
    --set model.depth=2 --set optim.epochs=1 --set folds.k=2)
cltci_expect_exit(cli.finetune.budget_too_large 2
                  "finetune: budgets: labelled images M=500 exceeds the"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=too_large
                  --set "budgets=[500]" --overwrite)
cltci_expect_exit(cli.finetune.missing_pretrain_run 2
                  "init.pretrain_run: /nonexistent/run/encoder.safetensors not found"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=no_pretrain
                  --set init.type=pretrained --set init.pretrain_run=/nonexistent/run --overwrite)
cltci_expect_exit(cli.evaluate.checkpoint_not_a_model 2
                  "evaluate: .*bad_pretrain.yaml: "
                  $<TARGET_FILE:evaluate> --checkpoint ${CMAKE_CURRENT_LIST_DIR}/data/bad_pretrain.yaml
                  --images ${CMAKE_CURRENT_LIST_DIR}/data --output ${cltci_ft_out})
cltci_expect_exit(cli.evaluate.missing_checkpoint 2 "/nonexistent/model.safetensors: model checkpoint not found"
                  $<TARGET_FILE:evaluate> --checkpoint /nonexistent/model.safetensors
                  --images ${CMAKE_CURRENT_LIST_DIR}/data --output ${cltci_ft_out})
cltci_expect_exit(cli.evaluate.not_a_finetune_run 2 "finetune_run: /nonexistent/ft is not a finetune run"
                  $<TARGET_FILE:evaluate> --finetune-run /nonexistent/ft --output ${cltci_ft_out})
cltci_expect_exit(cli.report.missing_summary 2 "report: /nonexistent/ev: not found"
                  $<TARGET_FILE:report> /nonexistent/ev)
cltci_expect_exit(cli.report.bad_compare 2 "report: --compare: expected A:B, got 'random'"
                  $<TARGET_FILE:report> /nonexistent/ev --compare random)
cltci_expect_exit(cli.report.output_is_a_directory 2 "report: --output: .* is a directory"
                  $<TARGET_FILE:report> /nonexistent/ev --output ${CMAKE_CURRENT_LIST_DIR})
cltci_expect_exit(cli.finetune.repeated_seed 2 "seeds: must not repeat a seed"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=seeds
                  --set "seeds=[1,1]")
# Model selection (finetune.validation): bad fractions exit 2 naming the key, before any run
# directory exists.
cltci_expect_exit(cli.finetune.validation_fraction_zero 2
                  "validation.fraction: must be in \\(0, 1\\)"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=val_zero
                  --set validation.source=budget --set validation.fraction=0)
cltci_expect_exit(cli.finetune.validation_fraction_one 2
                  "validation.fraction: must be in \\(0, 1\\)"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=val_one
                  --set validation.source=budget --set validation.fraction=1)
cltci_expect_exit(cli.finetune.validation_too_few_images 2
                  "validation.fraction: 0.2 x M=2 = 0.4 rounds to no validation image"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=val_few
                  --set validation.source=budget --set validation.fraction=0.2
                  --set "budgets=[2]")
cltci_expect_exit(cli.finetune.validation_leaves_no_training_image 2
                  "validation.fraction: 0.5 x M=1 = 0.5 rounds to 1 validation images, leaving none"
                  $<TARGET_FILE:finetune> ${cltci_ft_small} --set run.name=val_none_left
                  --set validation.source=budget --set validation.fraction=0.5
                  --set "budgets=[1]")
