// Writes the fuzzers' seed corpus: valid examples of every input kind, made with the toolkit's
// own writers (or copied from configs/), into <corpus>/<target>/. Each seed is read back with
// the reader its fuzzer drives and its values checked, so a seed that stops parsing (a format
// change) fails here instead of silently starving the fuzzer. Registered with ctest as
// fuzz.seed_corpus; scripts/fuzz.sh runs it before fuzzing.
#include "cltci/common/atomic_file.h"
#include "cltci/common/json_reader.h"
#include "cltci/config/config_loader.h"
#include "cltci/data/dicom_tags.h"
#include "cltci/data/image_io.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/manifest.h"
#include "cltci/models/safetensors.h"
#include "fuzz_config_schema.h"

#include <opencv2/core.hpp>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;

namespace {

void expect(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("seed check failed: " + what);
}

void write_safetensors_seeds(const fs::path& dir) {
  cltci::models::StateDict tensors;
  tensors.insert("conv1.weight", torch::arange(6, torch::kFloat32).reshape({2, 3}));
  tensors.insert("bn1.num_batches_tracked", torch::tensor({7}, torch::kInt64));
  cltci::models::write_safetensors(dir / "two_tensors.safetensors", tensors,
                                   {{"format", "pt"}, {"cltci.note", "seed, \"quoted\""}});
  const auto loaded = cltci::models::read_safetensors(dir / "two_tensors.safetensors");
  expect(loaded.tensors.size() == 2, "safetensors: 2 tensors");
  expect(loaded.tensors["conv1.weight"].equal(tensors["conv1.weight"]), "safetensors: values");
  expect(loaded.tensors["bn1.num_batches_tracked"].item<std::int64_t>() == 7, "safetensors: I64");
  expect(loaded.metadata.at("cltci.note") == "seed, \"quoted\"", "safetensors: metadata");

  // Without the toolkit's checksum key, as Python's safetensors writes them: the reader's other
  // branch, and mutations of the data bytes are not all rejected by the CRC.
  cltci::models::StateDict bf16;
  bf16.insert("head.bias", torch::ones({4}, torch::kBFloat16));
  cltci::models::write_safetensors(dir / "bf16.safetensors", bf16);
  std::string bytes = cltci::common::read_file(dir / "bf16.safetensors");
  const std::string key = "\"cltci.crc32c\":\"";
  const std::size_t at = bytes.find(key);
  expect(at != std::string::npos, "safetensors: checksum key written");
  // Blank out `"cltci.crc32c":"xxxxxxxx"`: spaces are valid JSON, the offsets stay the same.
  bytes.replace(at, key.size() + 9, std::string(key.size() + 9, ' '));
  cltci::common::write_file_atomic(dir / "bf16_no_checksum.safetensors", bytes);
  const auto unchecked = cltci::models::read_safetensors(dir / "bf16_no_checksum.safetensors");
  expect(unchecked.metadata.empty() && unchecked.tensors["head.bias"].sum().item<float>() == 4.0f,
         "safetensors: file without checksum");
}

void write_json_reader_seeds(const fs::path& dir) {
  // A safetensors header as the toolkit writes it, and one of every kind of value and escape.
  cltci::models::StateDict tensors;
  tensors.insert("layer1.0.conv1.weight", torch::zeros({2, 1, 3, 3}));
  cltci::models::write_safetensors(dir / "header.safetensors", tensors, {{"format", "pt"}});
  const std::string file = cltci::common::read_file(dir / "header.safetensors");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, file.data(), sizeof header_size);
  fs::remove(dir / "header.safetensors");
  const std::string header = file.substr(8, header_size);
  cltci::common::write_file_atomic(dir / "safetensors_header.json", header);
  const auto parsed = cltci::common::read_json(header);
  const auto* conv = parsed.find("layer1.0.conv1.weight");
  expect(
      conv != nullptr && conv->find("shape") != nullptr && conv->find("shape")->items.size() == 4,
      "json_reader: safetensors header");

  const std::string values =
      "{\"null\": null, \"flags\": [true, false], \"integers\": [0, -7, 9223372036854775807],\n"
      " \"numbers\": [1.5, -2e-3, 6.02E+23], \"nested\": [[{\"k\": []}]],\n"
      " \"escapes\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\", "
      "\"raw\": \"\xC3\xA9\"}\n";
  cltci::common::write_file_atomic(dir / "values.json", values);
  const auto all = cltci::common::read_json(values);
  expect(all.find("integers")->items[2].integer == INT64_MAX, "json_reader: int64 max");
  expect(all.find("numbers")->items[1].text == "-2e-3", "json_reader: number text");
  expect(all.find("escapes")->text == "\" \\ / \b \f \n \r \t \xC3\xA9 \xF0\x9F\x98\x80",
         "json_reader: escapes");
}

void write_manifest_seeds(const fs::path& dir) {
  std::string header;
  for (const auto& column : cltci::data::manifest_columns()) {
    header += (header.empty() ? "" : ",") + column;
  }
  const std::string text =
      header + "\n" +
      "images/a.png,\"bch:001\",0,2019-03-01T08:00:00,PA,masks/a.png,,,train,s1,0.143,0.143\n"
      "images/b.png,\"bch:001\",1,,AP,,l/b.png,r/b.png,train,\"study, \"\"two\"\"\",,\n"
      "\"images/with\nnewline.png\",nih:0002,0,,,,,,test,,0.2,0.2\r\n";
  cltci::common::write_file_atomic(dir / "manifest.csv", text);
  cltci::data::ManifestCheck check;
  check.files_exist = false;
  const cltci::data::Manifest manifest = cltci::data::load_manifest(dir / "manifest.csv", check);
  expect(manifest.rows.size() == 3, "manifest: 3 rows");
  expect(manifest.rows[1].study == "study, \"two\"", "manifest: quoted field");
  expect(manifest.rows[2].path.filename() == "with\nnewline.png", "manifest: quoted newline");
  expect(manifest.rows[2].line == 4, "manifest: line of the row after a quoted newline");
  expect(std::abs(manifest.rows[0].spacing_row_mm - 0.143) < 1e-12, "manifest: spacing");

  // The ordering-by-time rule: no order column values, two times.
  cltci::common::write_file_atomic(
      dir / "ordered_by_time.csv",
      "path,patient_id,time\nx.png,p,2020-01-02T00:00:00\ny.png,p,2020-01-01T00:00:00\n");
  const auto by_time = cltci::data::load_manifest(dir / "ordered_by_time.csv", check);
  expect(by_time.rows.size() == 2 && by_time.rows[0].order == 1 && by_time.rows[1].order == 0,
         "manifest: order from time");
}

void write_config_seeds(const fs::path& dir, const fs::path& configs) {
  // The executables' configs: their sections and shapes, with keys the fuzz schema lacks.
  int copied = 0;
  for (const auto& entry : fs::recursive_directory_iterator(configs)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string kind = entry.path().parent_path().filename().string();
    fs::copy_file(entry.path(), dir / (kind + "_" + entry.path().filename().string()),
                  fs::copy_options::overwrite_existing);
    ++copied;
  }
  expect(copied >= 4, "config: the configs/ files were found");

  // One that the fuzz schema accepts, so the dump round trip starts from a valid config.
  cltci::common::write_file_atomic(dir / "fuzz_schema.yaml",
                                   "run: {name: seed, seed: 7, device: cpu}\n"
                                   "data:\n"
                                   "  source:\n"
                                   "    type: manifest\n"
                                   "    path: \"data/m.csv\"  # quoted\n"
                                   "    images_per_patient: [2, 3]\n"
                                   "  image_size: 128\n"
                                   "augment: {crop_area: [0.9, 1.0], contrast: [0.5, 1.5]}\n"
                                   "optim:\n  lr: 1.0e-3\n  schedule: step\n"
                                   "budgets: [5, 10, 20]\n");
  cltci::fuzz::FuzzConfig config;
  cltci::config::load_config(
      dir / "fuzz_schema.yaml", {}, [&](cltci::config::Schema& s) { describe(s, config); },
      [&](cltci::config::Problems& p) { validate(config, p); });
  expect(config.run_name == "seed" && config.seed == 7 && config.device == "cpu", "config: run");
  expect(config.source_path == "data/m.csv" && config.images_per_patient[1] == 3, "config: data");
  expect(config.lr == 1.0e-3 && config.schedule == cltci::fuzz::FuzzSchedule::kStep,
         "config: optim");
  expect(config.budgets.size() == 3 && config.budgets[2] == 20, "config: budgets");
}

void write_jsrt_seeds(const fs::path& dir) {
  cv::Mat stored(2048, 2048, CV_16UC1);
  for (int y = 0; y < stored.rows; ++y) {
    auto* row = stored.ptr<std::uint16_t>(y);
    for (int x = 0; x < stored.cols; ++x) row[x] = static_cast<std::uint16_t>((x + 2 * y) % 4600);
  }
  cltci::data::write_jsrt_img(dir / "film.img", stored);
  const auto image = cltci::data::read_jsrt_img(dir / "film.img");
  expect(std::abs(image.pixels.at<float>(0, 1) - (4095.0f - 1.0f) / 4095.0f) < 1e-6f,
         "jsrt: stored 1 shows as 4094/4095");
  // (1950 + 2 * 1100) % 4600 = 4150: above 12 bits, clipped to black rather than wrapped.
  expect(image.pixels.at<float>(1100, 1950) == 0.0f, "jsrt: values above 4095 clip to 0");
  // A short file: the size check's refusal path.
  const std::string bytes = cltci::common::read_file(dir / "film.img");
  cltci::common::write_file_atomic(dir / "truncated.img", bytes.substr(0, 4096));
}

void write_gif_seeds(const fs::path& dir) {
  cv::Mat mask = cv::Mat::zeros(12, 16, CV_8UC1);
  mask(cv::Rect(3, 2, 5, 7)).setTo(1);
  cltci::data::write_gif_mask(dir / "mask.gif", mask);
  const cv::Mat grey = cltci::data::read_gif_gray(dir / "mask.gif");
  expect(grey.rows == 12 && grey.cols == 16, "gif: size");
  expect(grey.at<unsigned char>(4, 4) == 255 && grey.at<unsigned char>(0, 0) == 0, "gif: values");
}

void write_dicom_seeds(const fs::path& dir) {
  cv::Mat stored(16, 16, CV_16UC1);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x)
      stored.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>(x * 256 + y);
  }
  cltci::data::DicomWriteOptions options;
  options.patient_id = "seed-patient";
  options.study_date = "20190301";
  options.study_time = "080000";
  options.acquisition_date = "20190301";
  options.acquisition_time = "081530.25";
  options.view_position = "PA";
  options.pixel_spacing = "0.143\\0.143";
  options.window_centers = {2048.0, 1024.0};
  options.window_widths = {4096.0, 2048.0};
  cltci::data::write_dicom(dir / "explicit_le.dcm", stored, options);
  const auto tags = cltci::data::read_dicom_tags(dir / "explicit_le.dcm");
  expect(tags.patient_id == "seed-patient", "dicom: patient id");
  expect(tags.datetime == "2019-03-01T08:15:30.25",
         "dicom: acquisition time, got " + tags.datetime);
  expect(tags.datetime_source == "AcquisitionDate/Time", "dicom: time source");
  expect(tags.spacing_source == "PixelSpacing" && std::abs(tags.spacing_row_mm - 0.143) < 1e-9,
         "dicom: spacing");
  expect(cltci::data::dicom_view(tags) == "PA", "dicom: view");

  options.monochrome1 = true;
  options.jpeg_ls_lossless = true;
  options.view_position = "";
  options.pixel_spacing = "";
  options.imager_pixel_spacing = "0.2\\0.1";
  options.acquisition_date = "";
  options.acquisition_time = "";
  cltci::data::write_dicom(dir / "jpeg_ls_monochrome1.dcm", stored, options);
  const auto more = cltci::data::read_dicom_tags(dir / "jpeg_ls_monochrome1.dcm");
  expect(more.datetime == "2019-03-01T08:00:00" && more.datetime_source == "StudyDate/Time",
         "dicom: study time fallback, got " + more.datetime);
  expect(more.spacing_source == "ImagerPixelSpacing" && std::abs(more.spacing_col_mm - 0.1) < 1e-9,
         "dicom: imager spacing");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cltci_fuzz_seed_corpus CORPUS_DIR CONFIGS_DIR\n";
    return 2;
  }
  const fs::path corpus = argv[1];
  try {
    const auto target_dir = [&](const char* target) {
      const fs::path dir = corpus / target;
      fs::create_directories(dir);
      return dir;
    };
    write_safetensors_seeds(target_dir("safetensors"));
    write_json_reader_seeds(target_dir("json_reader"));
    write_manifest_seeds(target_dir("manifest"));
    write_config_seeds(target_dir("config"), argv[2]);
    write_jsrt_seeds(target_dir("jsrt"));
    write_gif_seeds(target_dir("gif"));
    write_dicom_seeds(target_dir("dicom_tags"));
  } catch (const std::exception& error) {
    std::cerr << "cltci_fuzz_seed_corpus: " << error.what() << "\n";
    return 1;
  }
  std::cout << "seed corpus written to " << corpus.string() << "\n";
  return 0;
}
