// K-fold cross-validation splits, grouped by patient by default (no patient on both sides), or
// by image to reproduce the paper. Written once to splits.json and reused, so every method,
// backbone and M of a sweep is evaluated on the same folds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::data {

enum class GroupBy { kPatient, kImage };

struct FoldOptions {
  int folds = 5;
  GroupBy group_by = GroupBy::kPatient;
  std::uint64_t seed = 12345;  ///< the reference's fixed split seed
};

struct Folds {
  int count = 0;
  GroupBy group_by = GroupBy::kPatient;
  std::uint64_t seed = 0;
  std::vector<int> fold_of_image;  ///< test fold of every data set image

  std::vector<std::int64_t> test(int fold) const;   ///< ascending image indices
  std::vector<std::int64_t> train(int fold) const;  ///< every image not in `test(fold)`
};

/// Splits images into folds. Patient grouping shuffles the patients (seeded) and gives each,
/// in that order, to the fold with the fewest images so far, which balances fold sizes in
/// images. Image grouping shuffles the images and cuts them into folds whose sizes differ by at
/// most one (the first n mod k folds are larger, as sklearn's KFold; the permutation is ours, so
/// the exact images differ from sklearn's). Throws common::InputError when folds < 2 or exceed
/// the patients (images).
Folds make_folds(const std::vector<std::string>& patient_of_image, const FoldOptions& options);

/// The folds in `splits_file` when it exists (validated against the data set and the options:
/// any mismatch is a common::InputError naming the file), else made and written atomically.
Folds load_or_create_folds(const std::filesystem::path& splits_file,
                           const std::vector<std::string>& patient_of_image,
                           const FoldOptions& options,
                           bool* created = nullptr);

std::string folds_to_json(const Folds& folds, const std::vector<std::string>& patient_of_image);

const char* to_string(GroupBy group_by);

}  // namespace cltci::data
