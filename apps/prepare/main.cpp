// `prepare`: write the built-in phantom, import a data set into a manifest, check a manifest.
#include "cli_common.h"
#include "cltci/run/prepare.h"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  namespace run = cltci::run;
  cltci::apps::CommonFlags flags;  // only log_level is used: prepare has no config
  run::PreparePhantomOptions phantom;
  std::string format = "png";
  std::vector<int> per_patient{phantom.phantom.min_images, phantom.phantom.max_images};
  // Height first, as data.source.native_size: [height, width] in a config.
  std::vector<int> size{phantom.phantom.height, phantom.phantom.width};
  run::PrepareImportOptions import;
  bool all_views = false;
  bool fix_sides = false;
  run::PrepareCheckOptions check;
  CLI::App* ph = nullptr;
  CLI::App* im = nullptr;
  return cltci::apps::run_main(
      "prepare", "Write the phantom, import a data set into a manifest, check a manifest", argc,
      argv, flags,
      [&](CLI::App& app) {
        app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
        cltci::apps::add_version_flag(app);
        app.require_subcommand(1);
        app.fallthrough();  // `prepare import ... --log-level debug` works too

        ph = app.add_subcommand("phantom", "write the synthetic longitudinal phantom");
        ph->add_option("--output", phantom.output, "folder to create")->required();
        ph->add_option("--patients", phantom.phantom.patients, "number of patients")
            ->capture_default_str();
        ph->add_option("--images-per-patient", per_patient, "MIN MAX images per patient")
            ->expected(2)
            ->capture_default_str();
        ph->add_option("--seed", phantom.phantom.seed, "every pixel follows from it")
            ->capture_default_str();
        ph->add_option("--phantom-version", phantom.phantom.version,
                       "generator: 1 the original, 2 the paediatric ICU model (docs/phantom.md)")
            ->check(CLI::Range(1, 2))
            ->capture_default_str();
        ph->add_option("--size", size,
                       "H W native image size: height then width, the order of "
                       "data.source.native_size")
            ->expected(2)
            ->capture_default_str();
        ph->add_option("--bits", phantom.phantom.bits, "PNG depth: 8 or 16")->capture_default_str();
        ph->add_option("--format", format, "png | montgomery | jsrt | dicom | dicom-flat | nih")
            ->capture_default_str();
        ph->add_flag("--overwrite", phantom.overwrite, "replace an earlier prepare output");

        im = app.add_subcommand("import", "turn a data set's layout into a manifest");
        im->add_option("--kind", import.import.kind,
                       "folder | jsrt | montgomery | shenzhen | nih | "
                       "chexpert | mimic | dicom")
            ->required();
        im->add_option("--root", import.import.root, "the data set's folder")->required();
        im->add_option("--output", import.import.output_dir, "folder for manifest.csv")->required();
        im->add_option("--csv", import.import.csv, "metadata CSV when not at its usual place");
        im->add_option("--prefix", import.import.prefix, "patient id prefix (default: the kind)");
        im->add_flag("--allow-skips", import.import.allow_skips,
                     "list bad files instead of failing");
        im->add_flag("--all-views", all_views, "keep laterals (default: PA/AP only)");
        im->add_flag("--fix-swapped-sides", fix_sides, "swap left/right masks found reversed");
        im->add_flag("--verify-images", import.import.verify_images, "decode every image now");
        im->add_flag("--overwrite", import.overwrite, "replace an earlier prepare output");

        CLI::App* ch = app.add_subcommand("check", "validate a manifest");
        ch->add_option("--manifest", check.manifest, "manifest CSV")->required();
        ch->add_flag("--masks", check.masks, "decode masks: values 0/1/2/255, aspect ratios");
      },
      [&] {
        if (ph->parsed()) {
          phantom.phantom.min_images = per_patient[0];
          phantom.phantom.max_images = per_patient[1];
          phantom.phantom.height = size[0];
          phantom.phantom.width = size[1];
          phantom.format = cltci::data::parse_phantom_format(format);
          return run::prepare_phantom(phantom, std::cout);
        }
        if (im->parsed()) {
          import.import.frontal_only = !all_views;
          import.import.swapped_sides =
              fix_sides ? cltci::data::SwappedSides::kFix : cltci::data::SwappedSides::kRefuse;
          return run::prepare_import(import, std::cout);
        }
        return run::prepare_check(check, std::cout);
      });
}
