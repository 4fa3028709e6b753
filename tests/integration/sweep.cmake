# `sweep` from the command line: plan, run (two runners at once), skip on rerun, resume after a
# SIGKILL, a failing job, and bad sweep files (exit 2 naming the key). The phantom CI sweep runs
# twice in all (concurrent, kill-resume); the other tests reuse the first run's output.
set(cltci_sweep_out ${CMAKE_CURRENT_BINARY_DIR}/cli-sweep)
set(cltci_sweep_ci ${PROJECT_SOURCE_DIR}/configs/sweeps/phantom_ci.yaml)
set(cltci_sweep_check ${CMAKE_CURRENT_LIST_DIR}/sweep_check.sh)

add_test(NAME cli.sweep.help COMMAND $<TARGET_FILE:sweep> --help)
cltci_expect_exit(cli.sweep.plan 0
                  "6 jobs \\(1 pretrain, 2 finetune, 2 evaluate, 1 report\\).*ready +pretrain/cltci_moco_unet_phantom.*waiting +report/report_phantom_unet +on evaluate/.*work left: ~.*throughput assumed"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_ci} --output ${cltci_sweep_out}/plan)
add_test(NAME cli.sweep.run_concurrent
         COMMAND sh ${cltci_sweep_check} concurrent $<TARGET_FILE:sweep> ${cltci_sweep_ci}
                 ${cltci_sweep_out}/ci)
set_tests_properties(cli.sweep.run_concurrent PROPERTIES FIXTURES_SETUP cltci_sweep_ci
                     PASS_REGULAR_EXPRESSION "ok: concurrent, 6 jobs" TIMEOUT 300)
cltci_expect_exit(cli.sweep.rerun_skips 0 "6 of 6 jobs done \\(0 run by this runner\\)"
                  $<TARGET_FILE:sweep> run ${cltci_sweep_ci} --output ${cltci_sweep_out}/ci)
cltci_expect_exit(cli.sweep.plan_done 0
                  "done +finetune/ft_phantom_unet_cltci_moco_phantom +shard 1.*status: 6 done 0 running 0 ready 0 waiting 0 failed"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_ci} --output ${cltci_sweep_out}/ci
                  --shard 1/2)
cltci_expect_exit(cli.sweep.slurm 0 "wrote .*/ci/phantom_ci.sbatch"
                  $<TARGET_FILE:sweep> slurm ${cltci_sweep_ci} --output ${cltci_sweep_out}/ci)
# A second script is not written over the first (it may hold the user's edits) without
# --overwrite.
cltci_expect_exit(cli.sweep.slurm_exists 2 "--script: .*/ci/phantom_ci.sbatch exists .*pass --overwrite"
                  $<TARGET_FILE:sweep> slurm ${cltci_sweep_ci} --output ${cltci_sweep_out}/ci)
cltci_expect_exit(cli.sweep.slurm_overwrite 0 "wrote .*/ci/phantom_ci.sbatch"
                  $<TARGET_FILE:sweep> slurm ${cltci_sweep_ci} --output ${cltci_sweep_out}/ci
                  --overwrite)
set_tests_properties(cli.sweep.slurm_exists PROPERTIES DEPENDS cli.sweep.slurm
                     FIXTURES_REQUIRED cltci_sweep_ci)
set_tests_properties(cli.sweep.slurm_overwrite PROPERTIES DEPENDS cli.sweep.slurm_exists
                     FIXTURES_REQUIRED cltci_sweep_ci)
# The report job wrote the paper-ready tables and the figure (md5sum fails on a missing file).
cltci_expect_exit(cli.sweep.report_tables 0 "dice.md.*dice.tex.*hd95.csv.*dice_vs_m.png"
                  ${CMAKE_COMMAND} -E md5sum
                  ${cltci_sweep_out}/ci/report_phantom_unet/tables/dice.md
                  ${cltci_sweep_out}/ci/report_phantom_unet/tables/dice.tex
                  ${cltci_sweep_out}/ci/report_phantom_unet/tables/hd95.csv
                  ${cltci_sweep_out}/ci/report_phantom_unet/tables/dice_vs_m.png)
set_tests_properties(cli.sweep.rerun_skips cli.sweep.plan_done cli.sweep.slurm
                     cli.sweep.report_tables PROPERTIES FIXTURES_REQUIRED cltci_sweep_ci)
# Its own sweep file: the CI sweep's fine-tunings take under a second, so the runner could finish
# before the kill on a fast machine.
add_test(NAME cli.sweep.kill_resume
         COMMAND sh ${cltci_sweep_check} kill-resume $<TARGET_FILE:sweep>
                 ${CMAKE_CURRENT_LIST_DIR}/data/sweep_kill.yaml ${cltci_sweep_out}/killed)
set_tests_properties(cli.sweep.kill_resume PROPERTIES PASS_REGULAR_EXPRESSION
                     "ok: kill-resume, 6 jobs" TIMEOUT 300)

# A job that fails at run time is marked failed, its dependents are not run, the exit code is 1.
set(cltci_sweep_data ${cltci_sweep_out}/files)
set(cltci_sweep_configs ${PROJECT_SOURCE_DIR}/configs)
file(WRITE ${cltci_sweep_data}/failing.yaml
     "base: {pretrain: ${cltci_sweep_configs}/pretrain/phantom_cltci_moco_unet.yaml,\n"
     "       finetune: ${cltci_sweep_configs}/finetune/phantom_random_unet.yaml}\n"
     "axes:\n"
     "  init: [cltci_moco]\n"
     "  backbone: [unet]\n"
     "  pretrain_data: {missing: {set: {pretrain: [data.source.type=folder,\n"
     "                                             data.source.path=/nonexistent/cxr]}}}\n"
     "  finetune_data: [phantom]\n"
     "  budgets: [4]\n")
cltci_expect_exit(cli.sweep.failed_job 1
                  "failed pretrain/cltci_moco_unet_missing: .*/nonexistent/cxr.*0 of 4 jobs done \\(1 run by this runner\\), 1 failed, 3 not run after a failure"
                  $<TARGET_FILE:sweep> run ${cltci_sweep_data}/failing.yaml
                  --output ${cltci_sweep_out}/failing)
cltci_expect_exit(cli.sweep.failed_plan 0
                  "failed +pretrain/cltci_moco_unet_missing .*/nonexistent/cxr.*waiting +finetune/ft_phantom_unet_cltci_moco_missing .*blocked: pretrain/cltci_moco_unet_missing failed"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_data}/failing.yaml
                  --output ${cltci_sweep_out}/failing)
set_tests_properties(cli.sweep.failed_plan PROPERTIES DEPENDS cli.sweep.failed_job)

# Bad sweep files: exit 2, one line naming file:line:col and the key.
set(cltci_sweep_base
    "base: {finetune: ${cltci_sweep_configs}/finetune/phantom_random_unet.yaml}\naxes:\n")
file(WRITE ${cltci_sweep_data}/unknown_axis.yaml
     "${cltci_sweep_base}  init: [random]\n  backbone: [unet]\n  finetune_data: [d]\n"
     "  budgets: [10]\n  methods: [moco]\n")
cltci_expect_exit(cli.sweep.unknown_axis 2
                  "unknown_axis.yaml:7:3: axes.methods: unknown key \\(known here: init, backbone"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_data}/unknown_axis.yaml)
file(WRITE ${cltci_sweep_data}/empty_axis.yaml
     "${cltci_sweep_base}  init: [random]\n  backbone: []\n  finetune_data: [d]\n"
     "  budgets: [10]\n")
cltci_expect_exit(cli.sweep.empty_axis 2
                  "empty_axis.yaml:4:13: axes.backbone: empty axis: list at least one value"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_data}/empty_axis.yaml)
file(WRITE ${cltci_sweep_data}/unknown_method.yaml
     "${cltci_sweep_base}  init: [random, cltci_mocco]\n  backbone: [unet]\n"
     "  pretrain_data: [p]\n  finetune_data: [d]\n  budgets: [10]\n")
cltci_expect_exit(cli.sweep.unknown_method 2
                  "unknown_method.yaml:3:18: axes.init.cltci_mocco.method: unknown method 'cltci_mocco' .*did you mean 'cltci_moco'"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_data}/unknown_method.yaml)
file(WRITE ${cltci_sweep_data}/bad_override.yaml
     "${cltci_sweep_base}  init: [random]\n  backbone: [unet]\n  finetune_data: [d]\n"
     "  budgets: [10]\nset: {finetune: [optim.lrr=1]}\n")
cltci_expect_exit(cli.sweep.bad_override 2
                  "bad_override.yaml: job finetune/ft_d_unet_random: --set optim.lrr=1: optim.lrr: unknown key; did you mean 'optim.lr'"
                  $<TARGET_FILE:sweep> plan ${cltci_sweep_data}/bad_override.yaml)
cltci_expect_exit(cli.sweep.bad_shard 2 "--shard: expected I/N with 0 <= I < N, got '2/2'"
                  $<TARGET_FILE:sweep> run ${cltci_sweep_ci} --output ${cltci_sweep_out}/plan
                  --shard 2/2)
cltci_expect_exit(cli.sweep.missing_file 2 "/nonexistent/s.yaml: sweep file not found"
                  $<TARGET_FILE:sweep> plan /nonexistent/s.yaml)
