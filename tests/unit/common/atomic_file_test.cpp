#include "cltci/common/atomic_file.h"

#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

int entries_in(const std::filesystem::path& dir) {
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++entries;
  return entries;
}

// A full disk, imitated by a file-size limit in a forked child (SIGXFSZ ignored, so write(2)
// fails with EFBIG instead of killing it). The child reports its exception's message through a
// pipe and exits as the apps would: 1 for common::Error, 3 for anything else (a
// std::terminate would show as SIGABRT).
TEST(AtomicFile, DiskFullFailsCleanlyAndKeepsTheOldFile) {
  testing::TempDir dir;
  const auto target = dir / "checkpoint.pt";
  write_file_atomic(target, std::string_view("previous checkpoint"));
  int channel[2];
  ASSERT_EQ(::pipe(channel), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(channel[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 0;
    std::string message;
    try {
      write_file_atomic(target, std::string(1 << 16, 'x'));
      message = "no error";
    } catch (const Error& error) {
      message = error.what();
      code = 1;
    } catch (const std::exception& error) {
      message = error.what();
      code = 3;
    }
    [[maybe_unused]] const auto written = ::write(channel[1], message.data(), message.size());
    ::_exit(code);
  }
  ::close(channel[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(channel[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 1) << message;
  EXPECT_EQ(message.find("no space left while writing " + target.string()), 0U) << message;
  EXPECT_EQ(read_file(target), "previous checkpoint");
  EXPECT_EQ(entries_in(dir.path()), 1);  // no temporary left behind
}

TEST(AtomicFile, ForeignExceptionsOfAWriterBecomeErrorsNamingTheFile) {
  testing::TempDir dir;
  const auto target = dir / "model.pt";
  write_file_atomic(target, std::string_view("good"));
  try {
    write_file_atomic(target, [](const std::filesystem::path& temporary) {
      std::ofstream(temporary) << "half";
      throw std::runtime_error("PytorchStreamWriter failed writing file");
    });
    FAIL() << "expected Error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot write " + target.string() + ": PytorchStreamWriter failed writing file");
  }
  EXPECT_EQ(read_file(target), "good");
  EXPECT_EQ(entries_in(dir.path()), 1);
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
