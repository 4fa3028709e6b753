#include "cltci/data/folds.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json_writer.h"
#include "cltci/common/seeding.h"
#include "data/random.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace cltci::data {
namespace {

constexpr std::uint64_t kFoldTag = 0x666f6c64ULL;
constexpr int kSplitsVersion = 1;

std::string fingerprint(const std::vector<std::string>& patient_of_image) {
  std::uint64_t hash = detail::fnv1a("", 0);
  for (const std::string& id : patient_of_image)
    hash = detail::fnv1a(id.data(), id.size() + 1, hash);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

const char* to_string(GroupBy group_by) {
  return group_by == GroupBy::kPatient ? "patient" : "image";
}

std::vector<std::int64_t> Folds::test(int fold) const {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < fold_of_image.size(); ++i) {
    if (fold_of_image[i] == fold) out.push_back(static_cast<std::int64_t>(i));
  }
  return out;
}

std::vector<std::int64_t> Folds::train(int fold) const {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < fold_of_image.size(); ++i) {
    if (fold_of_image[i] != fold) out.push_back(static_cast<std::int64_t>(i));
  }
  return out;
}

Folds make_folds(const std::vector<std::string>& patient_of_image, const FoldOptions& options) {
  const std::set<std::string> patients(patient_of_image.begin(), patient_of_image.end());
  const std::size_t units =
      options.group_by == GroupBy::kPatient ? patients.size() : patient_of_image.size();
  if (options.folds < 2)
    throw common::InputError("folds must be >= 2, got " + std::to_string(options.folds));
  if (static_cast<std::size_t>(options.folds) > units) {
    throw common::InputError(
        "folds (" + std::to_string(options.folds) + ") exceed the " + std::to_string(units) +
        (options.group_by == GroupBy::kPatient ? " patients" : " images") + " of the data set");
  }
  Folds folds;
  folds.count = options.folds;
  folds.group_by = options.group_by;
  folds.seed = options.seed;
  folds.fold_of_image.assign(patient_of_image.size(), -1);
  detail::Rng rng(common::derive_seed(options.seed, {kFoldTag}));
  if (options.group_by == GroupBy::kImage) {
    std::vector<std::size_t> order(patient_of_image.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng.shuffle(order);
    const std::size_t n = order.size(), k = static_cast<std::size_t>(options.folds);
    std::size_t at = 0;
    for (std::size_t f = 0; f < k; ++f) {
      const std::size_t size = n / k + (f < n % k ? 1 : 0);
      for (std::size_t j = 0; j < size; ++j) folds.fold_of_image[order[at++]] = static_cast<int>(f);
    }
    return folds;
  }
  std::map<std::string, std::vector<std::size_t>> images;
  for (std::size_t i = 0; i < patient_of_image.size(); ++i)
    images[patient_of_image[i]].push_back(i);
  std::vector<std::string> order(patients.begin(), patients.end());
  rng.shuffle(order);
  std::vector<std::size_t> load(static_cast<std::size_t>(options.folds), 0);
  for (const std::string& patient : order) {
    const auto fold =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    for (const std::size_t i : images[patient]) folds.fold_of_image[i] = static_cast<int>(fold);
    load[fold] += images[patient].size();
  }
  return folds;
}

std::string folds_to_json(const Folds& folds, const std::vector<std::string>& patient_of_image) {
  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  common::JsonWriter json;
  json.begin_object();
  json.member("version", kSplitsVersion).member("folds", folds.count);
  json.member("group_by", to_string(folds.group_by)).member("seed", folds.seed);
  json.member("images", folds.fold_of_image.size());
  json.member("fingerprint", fingerprint(patient_of_image));
  json.key("fold_of_image").begin_array(one_line);
  for (const int fold : folds.fold_of_image) json.value(fold);
  json.end_array();
  // The test patients of each fold, one line a fold, for people reading the file (ignored when
  // loading).
  json.key("test_patients").begin_array();
  for (int f = 0; f < folds.count; ++f) {
    std::set<std::string> ids;
    for (std::size_t i = 0; i < folds.fold_of_image.size(); ++i) {
      if (folds.fold_of_image[i] == f) ids.insert(patient_of_image[i]);
    }
    json.begin_array(one_line);
    for (const std::string& id : ids) json.value(id);
    json.end_array();
  }
  json.end_array();
  json.end_object();
  return json.text();
}

Folds load_or_create_folds(const std::filesystem::path& splits_file,
                           const std::vector<std::string>& patient_of_image,
                           const FoldOptions& options,
                           bool* created) {
  if (!std::filesystem::exists(splits_file)) {
    Folds folds = make_folds(patient_of_image, options);
    common::write_file_atomic(splits_file, folds_to_json(folds, patient_of_image));
    if (created != nullptr) *created = true;
    return folds;
  }
  if (created != nullptr) *created = false;
  const std::string where = splits_file.string() + ": ";
  const std::string text = common::read_file(splits_file);
  Folds folds;
  std::string stored_fingerprint;
  std::size_t images = 0;
  std::string group_by;
  try {
    // JSON is YAML's flow syntax, so the YAML parser the toolkit already links reads it.
    const YAML::Node root = YAML::Load(text);
    if (root["version"].as<int>() != kSplitsVersion)
      throw common::InputError(where + "unsupported version");
    folds.count = root["folds"].as<int>();
    group_by = root["group_by"].as<std::string>();
    folds.seed = root["seed"].as<std::uint64_t>();
    images = root["images"].as<std::size_t>();
    stored_fingerprint = root["fingerprint"].as<std::string>();
    folds.fold_of_image = root["fold_of_image"].as<std::vector<int>>();
  } catch (const YAML::Exception& e) {
    throw common::InputError(where + "not a valid splits file (" + e.what() + ")");
  }
  if (group_by != "patient" && group_by != "image")
    throw common::InputError(where + "bad group_by '" + group_by + "'");
  folds.group_by = group_by == "patient" ? GroupBy::kPatient : GroupBy::kImage;

  std::vector<std::string> problems;
  if (folds.count != options.folds || folds.group_by != options.group_by ||
      folds.seed != options.seed) {
    problems.push_back(where + "made with folds=" + std::to_string(folds.count) +
                       " group_by=" + group_by + " seed=" + std::to_string(folds.seed) +
                       ", but the config asks for folds=" + std::to_string(options.folds) +
                       " group_by=" + to_string(options.group_by) +
                       " seed=" + std::to_string(options.seed) + " (delete the file to re-split)");
  }
  if (images != patient_of_image.size() || folds.fold_of_image.size() != images ||
      stored_fingerprint != fingerprint(patient_of_image)) {
    problems.push_back(where + "made for another data set (" + std::to_string(images) +
                       " images, now " + std::to_string(patient_of_image.size()) +
                       ", or different patients); delete it to re-split");
  }
  if (problems.empty()) {
    std::map<std::string, int> fold_of_patient;
    for (std::size_t i = 0; i < images; ++i) {
      const int f = folds.fold_of_image[i];
      if (f < 0 || f >= folds.count) {
        problems.push_back(where + "image " + std::to_string(i) + " has fold " + std::to_string(f));
        break;
      }
      if (folds.group_by == GroupBy::kPatient) {
        const auto [it, fresh] = fold_of_patient.emplace(patient_of_image[i], f);
        if (!fresh && it->second != f) {
          problems.push_back(where + "patient '" + patient_of_image[i] + "' is in folds " +
                             std::to_string(it->second) + " and " + std::to_string(f));
          break;
        }
      }
    }
  }
  if (!problems.empty()) throw common::InputError(problems);
  return folds;
}

}  // namespace cltci::data
