// `sweep`: expand a sweep file (methods x backbones x data x M x folds x seeds) into pretrain ->
// finetune -> evaluate -> report jobs; `plan` shows them, `run` runs them in this process (several
// runners share the work through lock files), `slurm` writes an sbatch array script.
#include "cli_common.h"
#include "cltci/config/sweep_config.h"
#include "cltci/run/sweep.h"
#include "cltci/run/sweep_graph.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  cltci::apps::CommonFlags flags;
  std::string file, output, device, threads, shard, script;
  std::vector<std::string> rates;
  cltci::run::SlurmOptions slurm_options;
  bool overwrite = false;
  CLI::App* plan = nullptr;
  CLI::App* run = nullptr;
  return cltci::apps::run_main(
      "sweep", "Run sweeps of pretrain -> finetune -> evaluate -> report jobs", argc, argv, flags,
      [&](CLI::App& app) {
        app.require_subcommand(1);
        app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
        cltci::apps::add_version_flag(app);
        const auto common = [&](CLI::App* sub) {
          sub->add_option("file", file, "sweep file (configs/sweeps/*.yaml)")->required();
          sub->add_option("--output", output, "output folder (replaces sweep.output_dir)");
          sub->add_option("--device", device, "run.device of every job (auto, cpu, cuda, cuda:1)");
          sub->add_option("--threads", threads,
                          "run.threads of every job (0: OMP_NUM_THREADS or the available CPUs)");
        };
        plan = app.add_subcommand("plan", "list the jobs, their status and the work left");
        common(plan);
        plan->add_option("--shard", shard, "show the shard of each job for N shards (I/N)");
        plan->add_option(
            "--images-per-second", rates,
            "ARCH=N: fine-tuning images/s at 256 px where no finished run measured it");
        run = app.add_subcommand("run", "run ready jobs until none remain (resumable)");
        common(run);
        run->add_option("--shard", shard,
                        "run only shard I of N (I/N); default from SLURM_ARRAY_TASK_ID/COUNT");
        auto* slurm =
            app.add_subcommand("slurm", "write an sbatch script running the sweep as an array");
        common(slurm);
        slurm->add_option("--script", script,
                          "where to write it (default <output_dir>/<name>.sbatch)");
        slurm->add_option("--array", slurm_options.array, "array tasks (default: largest stage)");
        slurm->add_option("--gpus", slurm_options.gpus, "GPUs per task")->capture_default_str();
        slurm->add_option("--cpus", slurm_options.cpus, "CPU cores per task")
            ->capture_default_str();
        slurm->add_option("--time", slurm_options.time, "time limit per task")
            ->capture_default_str();
        slurm->add_option("--partition", slurm_options.partition, "partition");
        slurm->add_flag("--overwrite", overwrite, "replace an existing script");
      },
      [&] {
        std::vector<std::string> extra;
        if (!device.empty()) extra.push_back("run.device=" + device);
        if (!threads.empty()) extra.push_back("run.threads=" + threads);
        const auto config = cltci::config::load_sweep_config(file, output);
        const auto graph = cltci::run::expand_sweep(config, extra);
        cltci::run::SweepOptions options;
        cltci::run::parse_throughputs(rates, options);
        if (*plan) {
          cltci::run::resolve_shard(shard, options);
          std::cout << cltci::run::sweep_plan(graph, options);
          return 0;
        }
        if (*run) {
          cltci::run::resolve_shard(shard, options);
          return cltci::run::sweep_run(graph, options);
        }
        slurm_options.executable = fs::canonical("/proc/self/exe").string();
        slurm_options.sweep_file = fs::absolute(file).lexically_normal().string();
        std::string flags_text;
        if (!output.empty()) flags_text += " --output " + fs::absolute(output).string();
        if (!device.empty()) flags_text += " --device " + device;
        if (!threads.empty()) flags_text += " --threads " + threads;
        slurm_options.extra_flags = flags_text.empty() ? "" : flags_text.substr(1);
        const fs::path target =
            cltci::run::write_slurm_script(graph, slurm_options, script, overwrite);
        std::cout << "wrote " << target.string() << "; submit it with: sbatch " << target.string()
                  << "\n";
        return 0;
      });
}
