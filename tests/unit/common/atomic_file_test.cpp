#include "cltci/common/atomic_file.h"

#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

namespace cltci::common {
namespace {

TEST(AtomicFile, WritesAndReplacesWithoutLeavingTemporaries) {
  testing::TempDir dir;
  const auto target = dir / "sub" / "summary.json";
  write_file_atomic(target, std::string_view("first"));
  EXPECT_EQ(read_file(target), "first");
  write_file_atomic(target, std::string_view("second, longer"));
  EXPECT_EQ(read_file(target), "second, longer");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(target.parent_path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, FailingWriterKeepsTheOldFile) {
  testing::TempDir dir;
  const auto target = dir / "weights.pt";
  write_file_atomic(target, std::string_view("good"));
  EXPECT_THROW(write_file_atomic(target,
                                 [](const std::filesystem::path& temporary) {
                                   std::ofstream(temporary) << "half";
                                   throw Error("disk full");
                                 }),
               Error);
  EXPECT_EQ(read_file(target), "good");
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, ReadingAMissingFileNamesIt) {
  try {
    read_file("/nonexistent/cltci/file.yaml");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), "/nonexistent/cltci/file.yaml: cannot open file");
    EXPECT_EQ(exit_code_for(error), kExitBadInput);
  }
}

}  // namespace
}  // namespace cltci::common

namespace cltci::common {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_string("runs/a"), "\"runs/a\"");
  EXPECT_EQ(json_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000ad\"");
}

TEST(JsonString, KeepsUtf8AndEscapesBytesThatAreNotUtf8) {
  // "é" in UTF-8 passes; a Latin-1 "é" (0xE9 alone), a lone continuation byte, an overlong "/"
  // and a surrogate are written as \u00XX, one per byte, so the JSON stays valid.
  EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_string("caf\xe9.png"), "\"caf\\u00e9.png\"");
  EXPECT_EQ(json_string("\x80"), "\"\\u0080\"");
  EXPECT_EQ(json_string("\xc0\xaf"), "\"\\u00c0\\u00af\"");
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");
  EXPECT_EQ(json_string("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");  // U+1F600
}

}  // namespace
}  // namespace cltci::common
