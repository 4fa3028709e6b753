// What a config or sweep file must be before any key is read: text, one YAML document, a
// mapping with at least one key, each key once (config/yaml_reader.cpp).
#include "cltci/common/error.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/config/sweep_config.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cltci::config {
namespace {

std::filesystem::path write_file(const testing::TempDir& dir,
                                 const std::string& bytes,
                                 const char* name = "cfg.yaml") {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<std::string> config_problems(const std::filesystem::path& file) {
  try {
    load_pretrain_config(file, {});
  } catch (const common::InputError& error) {
    return error.problems();
  }
  ADD_FAILURE() << "expected " << file << " to be refused";
  return {};
}

std::vector<std::string> sweep_problems(const std::filesystem::path& file) {
  try {
    load_sweep_config(file, "");
  } catch (const common::InputError& error) {
    return error.problems();
  }
  ADD_FAILURE() << "expected " << file << " to be refused";
  return {};
}

TEST(YamlReader, DuplicateKeyInAFlowMappingNamesKeyLineAndColumn) {
  testing::TempDir dir;
  const auto file = write_file(dir, "optim: {lr: 0.1, lr: 0.2}\n");
  const auto problems = config_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], file.string() +
                             ":1:18: optim.lr: duplicate key 'lr' in optim (first at line 1); give "
                             "each key once");
}

TEST(YamlReader, DuplicateKeysAtEveryDepthAreAllReported) {
  testing::TempDir dir;
  const auto file = write_file(dir,
                               "data:\n"
                               "  source:\n"
                               "    type: phantom\n"
                               "    type: manifest\n"
                               "optim:\n"
                               "  lr: 0.1\n"
                               "  epochs: 3\n"
                               "  lr: 0.2\n");
  const auto problems = config_problems(file);
  const std::string f = file.string();
  const std::vector<std::string> expected{
      f + ":4:5: data.source.type: duplicate key 'type' in data.source (first at line 3); give "
          "each key once",
      f + ":8:3: optim.lr: duplicate key 'lr' in optim (first at line 6); give each key once",
  };
  EXPECT_EQ(problems, expected);
}

TEST(YamlReader, ATopLevelThatIsNotAMappingIsOneLineNamingTheFile) {
  testing::TempDir dir;
  auto file = write_file(dir, "- optim\n- lr\n");
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{file.string() +
                                     ":1:1: the config file holds a list, not a mapping of keys; "
                                     "start from one of the files in configs/"});
  file = write_file(dir, "optim.lr=0.1\n");
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{file.string() +
                                     ":1:1: the config file holds the plain value 'optim.lr=0.1', "
                                     "not a mapping of keys; start from one of the files in "
                                     "configs/"});
}

TEST(YamlReader, BinaryDataIsRefusedBeforeParsing) {
  testing::TempDir dir;
  auto file = write_file(dir, std::string("run:\0\x01\x02", 7));
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{file.string() +
                                     ": not a YAML text file (binary data at byte 4); a config "
                                     "file is a YAML mapping of keys"});
  // Not UTF-8 (a Latin-1 byte, a PNG signature): the same, at the first bad byte.
  file = write_file(dir, "run: {name: caf\xe9}\n");
  ASSERT_EQ(config_problems(file).size(), 1U);
  EXPECT_NE(config_problems(file)[0].find("binary data at byte 15"), std::string::npos);
  file = write_file(dir, "\x89PNG\r\n\x1a\n");
  ASSERT_EQ(config_problems(file).size(), 1U);
  EXPECT_NE(config_problems(file)[0].find("binary data at byte 0"), std::string::npos);
  // A control character YAML does not allow, though valid UTF-8: refused, not quoted raw.
  file = write_file(dir, "run: {name: a\x01b}\n");
  ASSERT_EQ(config_problems(file).size(), 1U);
  EXPECT_NE(config_problems(file)[0].find("binary data at byte 13"), std::string::npos);
  file = write_file(dir, "run: {name: a\x7f}\n");
  ASSERT_EQ(config_problems(file).size(), 1U);
  EXPECT_NE(config_problems(file)[0].find("binary data at byte 13"), std::string::npos);
  // Tabs and CRLF line ends are text.
  file = write_file(dir, "run:\r\n  name: \"a\tb\"\r\n");
  EXPECT_EQ(load_pretrain_config(file, {}).run.name, "a\tb");
  // UTF-8 with a byte-order mark and non-ASCII text stays a config.
  file = write_file(dir, "\xef\xbb\xbfrun: {name: caf\xc3\xa9}\n");
  EXPECT_EQ(load_pretrain_config(file, {}).run.name, "caf\xc3\xa9");
}

TEST(YamlReader, InputThatMakesYamlCppLoadAllLoopIsRefused) {
  // yaml-cpp 0.7's LoadAll pushes null documents without end on these (jbeder/yaml-cpp#1319;
  // the second is the config fuzzer's reduced find): they must end in one line, at once.
  testing::TempDir dir;
  auto file = write_file(dir, ",\n");
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{file.string() +
                                     ":1: YAML syntax error: text after the end of the top-level "
                                     "mapping (check this line's indentation)"});
  file = write_file(dir, "run:\n  name: a\nrun:\nresett25\n    naoutpu");
  ASSERT_EQ(config_problems(file).size(), 1U);
  EXPECT_NE(config_problems(file)[0].find(file.string() + ":"), std::string::npos);
}

TEST(YamlReader, AKeyThatIsNotANameIsRefused) {
  // Found by the config fuzzer: a list as a key made yaml-cpp throw out of the schema reader.
  testing::TempDir dir;
  auto file = write_file(dir, "optim:\n  ? [lr, momentum]\n  : 0.1\n");
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{file.string() +
                                     ":2:5: optim: a key must be a plain name, got a list"});
  file = write_file(dir, "{run: 1}: 2\n");
  EXPECT_EQ(config_problems(file),
            std::vector<std::string>{
                file.string() + ":1:1: (top level): a key must be a plain name, got a mapping"});
}

TEST(YamlReader, ADirectoryIsNotAConfig) {
  testing::TempDir dir;
  EXPECT_EQ(config_problems(dir.path()),
            std::vector<std::string>{dir.path().string() +
                                     ": a directory, not a config file (a YAML file)"});
  EXPECT_EQ(
      config_problems(dir.path() / "missing.yaml"),
      std::vector<std::string>{(dir.path() / "missing.yaml").string() + ": config file not found"});
}

TEST(YamlReader, SweepFilesGetTheSameChecks) {
  testing::TempDir dir;
  auto file = write_file(dir, "# nothing yet\n", "sweep.yaml");
  EXPECT_EQ(sweep_problems(file),
            std::vector<std::string>{file.string() +
                                     ": the sweep is empty (no keys); start from one of the "
                                     "files in configs/"});
  file = write_file(dir,
                    "base: {finetune: f.yaml}\n"
                    "axes: {init: [random], backbone: [unet], finetune_data: [d], budgets: [10]}\n"
                    "axes: {init: [moco]}\n",
                    "sweep.yaml");
  EXPECT_EQ(sweep_problems(file),
            std::vector<std::string>{file.string() +
                                     ":3:1: axes: duplicate key 'axes' (first at line 2); give "
                                     "each key once"});
}

}  // namespace
}  // namespace cltci::config
