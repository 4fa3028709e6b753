# Command-line tests of the executables: exit codes and the exact first words of messages.
set(cltci_cli_data ${CMAKE_CURRENT_LIST_DIR}/data)
set(cltci_example_config ${PROJECT_SOURCE_DIR}/configs/pretrain/cltci_moco_unet.yaml)

foreach(app IN ITEMS pretrain finetune evaluate)
  add_test(NAME cli.${app}.help COMMAND $<TARGET_FILE:${app}> --help)
  add_test(NAME cli.${app}.version COMMAND $<TARGET_FILE:${app}> --version)
  set_tests_properties(cli.${app}.version PROPERTIES PASS_REGULAR_EXPRESSION "cltci [0-9.]+ \\(LibTorch 2")
  add_test(NAME cli.${app}.unknown_flag COMMAND $<TARGET_FILE:${app}> --no-such-flag)
  set_tests_properties(cli.${app}.unknown_flag PROPERTIES WILL_FAIL ON)
endforeach()

# Exit codes must be exactly 2 for bad input: a wrapper script checks code and message.
function(cltci_expect_exit name code regex)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DEXPECTED_CODE=${code} -DEXPECTED_REGEX=${regex}
                   "-DCOMMAND=${ARGN}" -P ${CMAKE_CURRENT_LIST_DIR}/expect_exit.cmake)
endfunction()

cltci_expect_exit(cli.pretrain.dump_config 0 "  lr: 0.1  # peak learning rate"
                  $<TARGET_FILE:pretrain> --config ${cltci_example_config} --dump-config)
cltci_expect_exit(cli.pretrain.set_typo 2
                  "pretrain: --set optim.lrr=1: optim.lrr: unknown key; did you mean 'optim.lr'\\?"
                  $<TARGET_FILE:pretrain> --config ${cltci_example_config} --set optim.lrr=1)
cltci_expect_exit(cli.pretrain.bad_file 2
                  "bad_pretrain.yaml:3:3: optim.lrr: unknown key; did you mean 'optim.lr'\\?.*bad_pretrain.yaml:5:16: method.temperature: must be > 0 \\(got 0\\)"
                  $<TARGET_FILE:pretrain> --config ${cltci_cli_data}/bad_pretrain.yaml)
foreach(app IN ITEMS pretrain finetune evaluate)
  cltci_expect_exit(cli.${app}.missing_config 2 "${app}: /nonexistent/c.yaml: config file not found"
                    $<TARGET_FILE:${app}> --config /nonexistent/c.yaml)
endforeach()
cltci_expect_exit(cli.pretrain.bad_log_level 2 "--log-level: unknown level 'loud'"
                  $<TARGET_FILE:pretrain> --log-level loud --dump-config)
cltci_expect_exit(cli.finetune.bad_budgets 2 "budgets: must be strictly increasing"
                  $<TARGET_FILE:finetune> --set "budgets=[20,10]")
cltci_expect_exit(cli.evaluate.nothing_to_do 2 "give either finetune_run"
                  $<TARGET_FILE:evaluate> --set run.output_dir=${CMAKE_CURRENT_BINARY_DIR}/eval-none)

# End-to-end command-line tests of each pipeline.
foreach(part pretrain prepare finetune sweep bad_inputs bench)
  include(${CMAKE_CURRENT_LIST_DIR}/${part}.cmake)
endforeach()

# --seed and --set run.seed= follow one rule: a value beyond int64 is refused, not clamped.
cltci_expect_exit(cli.pretrain.huge_seed 2
                  "pretrain: --set run.seed=99999999999999999999999: run.seed: expected an integer"
                  $<TARGET_FILE:pretrain> --seed 99999999999999999999999 --dump-config)
cltci_expect_exit(cli.pretrain.escaping_run_name 2 "run.name: must be one directory name"
                  $<TARGET_FILE:pretrain> --set run.name=../escape --dump-config)

# An existing --output / --summary file is kept unless --overwrite is given.
set(cltci_report_out ${CMAKE_CURRENT_BINARY_DIR}/cli-report)
file(WRITE ${cltci_report_out}/old_table.ref "an earlier table\n")
add_test(NAME cli.report.make_old_table
         COMMAND ${CMAKE_COMMAND} -E copy ${cltci_report_out}/old_table.ref
                 ${cltci_report_out}/old_table.txt)
set_tests_properties(cli.report.make_old_table PROPERTIES FIXTURES_SETUP cli_report_old)
cltci_expect_exit(cli.report.existing_output 2
                  "report: --output: .*old_table.txt exists; pass --overwrite to replace it"
                  $<TARGET_FILE:report> /nonexistent/ev --output ${cltci_report_out}/old_table.txt)
cltci_expect_exit(cli.report.existing_summary 2
                  "report: --summary: .*old_table.txt exists; pass --overwrite"
                  $<TARGET_FILE:report> /nonexistent/ev --summary ${cltci_report_out}/old_table.txt)
# With --overwrite the file check passes (the missing evaluation is what stops it).
cltci_expect_exit(cli.report.overwrite_output 2 "report: /nonexistent/ev: not found"
                  $<TARGET_FILE:report> /nonexistent/ev --output ${cltci_report_out}/old_table.txt
                  --overwrite)
add_test(NAME cli.report.existing_output_unchanged
         COMMAND ${CMAKE_COMMAND} -E compare_files ${cltci_report_out}/old_table.ref
                 ${cltci_report_out}/old_table.txt)
set_tests_properties(cli.report.existing_output cli.report.existing_summary
                     cli.report.overwrite_output cli.report.existing_output_unchanged
                     PROPERTIES FIXTURES_REQUIRED cli_report_old)
set_tests_properties(cli.report.existing_output_unchanged PROPERTIES DEPENDS
                     "cli.report.existing_output;cli.report.existing_summary;cli.report.overwrite_output")

# report --tables / --curves (issue #10): files from hand-made evaluate summaries and a
# metrics.csv; a bad or occupied --tables directory exits 2 before anything is read.
set(cltci_report_in ${CMAKE_CURRENT_BINARY_DIR}/cli-report-tables)
foreach(init IN ITEMS random cltci)
  if(init STREQUAL "random")
    set(dice 0.80)
  else()
    set(dice 0.85)
  endif()
  file(WRITE ${cltci_report_in}/${init}_eval/summary.json
       "{\"initialisation\": \"${init}\", \"arch\": \"unet\", \"surface_unit\": \"px\", \"cells\": ["
       "{\"fold\": 0, \"budget\": 10, \"seed\": 0, \"pooled\": {\"mean\": ${dice}}, "
       "\"hd95\": {\"left\": 5, \"right\": 7, \"mean\": 6}, \"assd\": {\"left\": 1, \"right\": 2, \"mean\": 1.5}}], "
       "\"by_budget\": {\"10\": {\"mean\": ${dice}, \"std\": 0, \"cells\": 1}}}\n")
endforeach()
file(WRITE ${cltci_report_in}/pretrain_run/metrics.csv
     "epoch,step,global_step,loss,lr,samples_per_s,probe_top1\n1,1,1,5.0,0.1,10,0.2\n2,1,2,4.0,0.05,10,0.4\n")
cltci_expect_exit(cli.report.tables 0 "Tables in .*dice.md, dice.csv, dice.tex, dice_vs_m.png, hd95.md"
                  $<TARGET_FILE:report> ${cltci_report_in}/random_eval ${cltci_report_in}/cltci_eval
                  --tables ${cltci_report_in}/tables --overwrite)
set_tests_properties(cli.report.tables PROPERTIES FIXTURES_SETUP cli_report_tables)
cltci_expect_exit(cli.report.tables_existing 2
                  "report: --tables: .*dice.md exists; pass --overwrite to replace it"
                  $<TARGET_FILE:report> ${cltci_report_in}/random_eval
                  --tables ${cltci_report_in}/tables)
set_tests_properties(cli.report.tables_existing PROPERTIES FIXTURES_REQUIRED cli_report_tables)
cltci_expect_exit(cli.report.tables_not_a_directory 2 "report: --tables: .*random_eval/summary.json is not a directory"
                  $<TARGET_FILE:report> ${cltci_report_in}/random_eval
                  --tables ${cltci_report_in}/random_eval/summary.json)
cltci_expect_exit(cli.report.tables_parent_missing 2 "report: --tables: directory /nonexistent/dir does not exist"
                  $<TARGET_FILE:report> ${cltci_report_in}/random_eval --tables /nonexistent/dir/tables)
cltci_expect_exit(cli.report.curves 0 "Training curves of 1 run\\(s\\) in .*curves.png"
                  $<TARGET_FILE:report> --curves ${cltci_report_in}/curves.png --overwrite
                  ${cltci_report_in}/pretrain_run)
cltci_expect_exit(cli.report.curves_not_png 2 "report: --curves: .*curves.txt: give a file name ending in .png"
                  $<TARGET_FILE:report> --curves ${cltci_report_in}/curves.txt ${cltci_report_in}/pretrain_run)
cltci_expect_exit(cli.report.curves_with_tables 2 "report: --curves draws training runs"
                  $<TARGET_FILE:report> --curves ${cltci_report_in}/c.png --tables ${cltci_report_in}/t
                  ${cltci_report_in}/pretrain_run)
cltci_expect_exit(cli.report.curves_not_a_run 2 "report: .*random_eval: no metrics.csv in it or below it"
                  $<TARGET_FILE:report> --curves ${cltci_report_in}/c.png ${cltci_report_in}/random_eval)

# A partial launch environment (issue #11) is bad input naming the variable, before any work.
cltci_expect_exit(cli.pretrain.partial_launch_environment 2
                  "pretrain: environment variable WORLD_SIZE is not set, but RANK is"
                  ${CMAKE_COMMAND} -E env RANK=1 $<TARGET_FILE:pretrain>
                  --config ${PROJECT_SOURCE_DIR}/configs/pretrain/phantom_cltci_moco_unet.yaml
                  --output ${CMAKE_CURRENT_BINARY_DIR}/cli-partial-launch)
cltci_expect_exit(cli.finetune.bad_master_port 2
                  "finetune: environment variable MASTER_PORT=99999: a TCP port is in \\[1, 65535\\]"
                  ${CMAKE_COMMAND} -E env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=99999
                  $<TARGET_FILE:finetune>
                  --config ${PROJECT_SOURCE_DIR}/configs/finetune/phantom_random_unet.yaml
                  --output ${CMAKE_CURRENT_BINARY_DIR}/cli-partial-launch)
