#include "cltci/common/device.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/common/run_directory.h"
#include "cltci/common/seeding.h"
#include "common_test_support.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sched.h>
#include <stdlib.h>  // setenv, unsetenv (POSIX)
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cltci::common {
namespace {

TEST(Device, ParsesCpuAndAuto) {
  EXPECT_EQ(resolve_device("cpu"), c10::Device(c10::kCPU));
  const auto automatic = resolve_device("auto");
  EXPECT_EQ(automatic.is_cuda(), torch::cuda::is_available());
}

TEST(Device, CudaWithoutGpuIsAClearInputError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is present";
  try {
    resolve_device("cuda:1");
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "device 'cuda:1': CUDA was requested but no GPU is available (torch sees 0 devices)");
  }
}

TEST(Device, RejectsMalformedSpecs) {
  EXPECT_THROW(resolve_device("gpu"), InputError);
  EXPECT_THROW(resolve_device("cuda:x"), InputError);
}

TEST(Device, ToDeviceAsyncOnTheCpuConvertsAsToDoes) {
  const auto ints = torch::tensor({3, -1, 7}, torch::kInt);
  const auto moved = to_device_async(ints, c10::Device(c10::kCPU), torch::kLong);
  EXPECT_EQ(moved.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(moved, torch::tensor({3, -1, 7}, torch::kLong)));
  // Nothing to convert or move: the very tensor comes back, as from .to().
  const auto longs = torch::arange(4, torch::kLong);
  EXPECT_TRUE(to_device_async(longs, c10::Device(c10::kCPU), torch::kLong).is_same(longs));
}

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(Threads, AvailableCpusFollowTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(available_cpus(), CPU_COUNT(&saved));
  EXPECT_LE(available_cpus(), static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  // Pinned to one CPU (as `taskset -c N` or a one-CPU allocation would), "all cores" is one.
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int pinned = available_cpus();
  const int threads = [] {
    const ScopedEnv unset("OMP_NUM_THREADS", nullptr);
    return default_thread_count();
  }();
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(pinned, 1);
  EXPECT_EQ(threads, 1);
}

TEST(Threads, ZeroMeansOmpNumThreadsElseTheAvailableCpusSharedByTheProcesses) {
  EXPECT_EQ(apply_thread_count(1), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(apply_thread_count(3), 3);
  {
    const ScopedEnv unset("OMP_NUM_THREADS", nullptr);
    EXPECT_EQ(apply_thread_count(0), available_cpus());
    EXPECT_EQ(default_thread_count(2), std::max(1, available_cpus() / 2));
    EXPECT_EQ(default_thread_count(1000), 1);
    EXPECT_EQ(apply_thread_count(0, 1000), 1);
  }
  for (const auto& [value, want] : std::vector<std::pair<const char*, int>>{
           {"3", 3}, {"5,2", 5}, {"0", 0}, {"", 0}, {"two", 0}, {"-4", 0}, {"99999999", 0}}) {
    const ScopedEnv set("OMP_NUM_THREADS", value);
    // Not a positive count: ignored, as OpenMP ignores it.
    const int expected = want > 0 ? want : available_cpus();
    EXPECT_EQ(default_thread_count(), expected) << "OMP_NUM_THREADS=" << value;
    EXPECT_EQ(default_thread_count(4), want > 0 ? want : std::max(1, available_cpus() / 4))
        << "OMP_NUM_THREADS=" << value << ": it is a per-process count, never divided";
  }
  {
    const ScopedEnv set("OMP_NUM_THREADS", "2");
    EXPECT_EQ(apply_thread_count(0), 2);
    EXPECT_EQ(at::get_num_threads(), 2);
  }
  EXPECT_THROW(apply_thread_count(-1), InputError);
}

TEST(Seeding, DerivedSeedsDependOnEveryCoordinateAndAreStable) {
  const auto a = derive_seed(12345, {0, 7});
  EXPECT_EQ(a, derive_seed(12345, {0, 7}));
  EXPECT_NE(a, derive_seed(12345, {1, 7}));
  EXPECT_NE(a, derive_seed(12345, {0, 8}));
  EXPECT_NE(a, derive_seed(12346, {0, 7}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
  // SplitMix64 reference value for input 0 (first output of the generator seeded with 0).
  EXPECT_EQ(mix64(0), 0xE220A8397B1DCDAFULL);
}

TEST(Interrupt, FlagRoundTripsAndThrowsInterrupted) {
  request_interrupt(true);
  EXPECT_TRUE(interrupt_requested());
  try {
    throw_if_interrupted("checkpoint saved");
    FAIL();
  } catch (const Interrupted& error) {
    EXPECT_EQ(exit_code_for(error), kExitInterrupted);
  }
  request_interrupt(false);
  EXPECT_NO_THROW(throw_if_interrupted("x"));
}

TEST(RunDirectory, FreshResumeFinishedAndRefusal) {
  testing::TempDir dir;
  const auto run = dir / "run";
  EXPECT_EQ(open_run_directory(run, false).state(), RunState::kFresh);
  EXPECT_TRUE(std::filesystem::exists(run / kRunMarker));
  std::ofstream(run / kRunConfigFile) << "run: {}\n";
  EXPECT_EQ(open_run_directory(run, false).state(), RunState::kResume);
  std::ofstream(run / kRunSummaryFile) << "{}";
  EXPECT_EQ(open_run_directory(run, false).state(), RunState::kFinished);
  EXPECT_EQ(open_run_directory(run, true).state(), RunState::kFresh);
  EXPECT_FALSE(std::filesystem::exists(run / kRunSummaryFile));

  const auto foreign = dir / "photos";
  std::filesystem::create_directories(foreign);
  std::ofstream(foreign / "holiday.jpg") << "x";
  EXPECT_THROW(open_run_directory(foreign, false), InputError);
  EXPECT_THROW(open_run_directory(foreign, true), InputError);
  EXPECT_TRUE(std::filesystem::exists(foreign / "holiday.jpg"));
}

TEST(RunDirectory, AnOpenRunIsLockedAgainstASecondOpener) {
  testing::TempDir dir;
  const auto run = dir / "run";
  {
    const RunDirectory first = open_run_directory(run, false);
    std::ofstream(run / kRunConfigFile) << "run: {}\n";
    // flock conflicts between two open descriptions even within one process, so this stands in
    // for a second `pretrain` on the same run.
    try {
      open_run_directory(run, false);
      FAIL() << "a second opener was let in";
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find("another process is running this run"),
                std::string::npos)
          << error.what();
    }
    EXPECT_THROW(open_run_directory(run, true), InputError);
    EXPECT_TRUE(std::filesystem::exists(run / kRunConfigFile));
  }
  // Released with the first opener; the overwrite then locks the new directory in turn.
  const RunDirectory replaced = open_run_directory(run, true);
  EXPECT_EQ(replaced.state(), RunState::kFresh);
  std::ofstream(run / kRunConfigFile) << "run: {}\n";
  try {
    open_run_directory(run, false);
    FAIL() << "the replacing run was not locked";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("another process"), std::string::npos) << error.what();
  }
}

/// Names in `dir` (hidden ones included), sorted.
std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RunDirectory, TheCheckAgreesWithTheOpenerAndChangesNothing) {
  testing::TempDir dir;
  const auto run = dir / "runs" / "run";
  EXPECT_EQ(check_run_directory(run, false), RunState::kFresh);
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{});  // nothing created
  { open_run_directory(run, false).commit(); }
  std::ofstream(run / kRunConfigFile) << "run: {}\n";
  EXPECT_EQ(check_run_directory(run, false), RunState::kResume);
  EXPECT_EQ(check_run_directory(run, true), RunState::kFresh);
  std::ofstream(run / kRunSummaryFile) << "{}";
  EXPECT_EQ(check_run_directory(run, false), RunState::kFinished);
  EXPECT_TRUE(std::filesystem::exists(run / kRunSummaryFile));

  // Under a file: the folders cannot be made, said before anything is tried.
  std::ofstream(dir / "notes.txt") << "x";
  const auto under_file = dir / "notes.txt" / "runs" / "run";
  try {
    check_run_directory(under_file, false);
    FAIL() << "a run under a file was accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              under_file.string() + ": cannot create directory: Not a directory");
  }
  EXPECT_THROW(check_run_directory(dir / "notes.txt", false), InputError);
  const auto foreign = dir / "photos";
  std::filesystem::create_directories(foreign);
  std::ofstream(foreign / "holiday.jpg") << "x";
  EXPECT_THROW(check_run_directory(foreign, false), InputError);
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"notes.txt", "photos", "runs"}));
}

TEST(RunDirectory, RollBackRemovesTheParentsItCreated) {
  testing::TempDir dir;
  RunDirectory opened = open_run_directory(dir / "runs" / "cv" / "run", false);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "runs" / "cv" / "run"));
  opened.roll_back();
  EXPECT_EQ(listing(dir.path()), std::vector<std::string>{});
}

std::string contents(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(RunDirectory, OverwriteRefusesAFolderTheToolkitDidNotCreate) {
  testing::TempDir dir;
  // A user's folder that happens to hold a config.yaml, or a run made before the marker.
  const auto mine = dir / "mine";
  std::filesystem::create_directories(mine);
  std::ofstream(mine / kRunConfigFile) << "my: notes\n";
  std::ofstream(mine / "thesis.tex") << "chapter 1";
  try {
    open_run_directory(mine, true);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("--overwrite refused: the directory was not created"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("can be resumed or skipped but not replaced"),
              std::string::npos);
  }
  EXPECT_EQ(contents(mine / "thesis.tex"), "chapter 1");
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"mine"}));
  // Without --overwrite it is still resumed (an old run keeps working).
  EXPECT_EQ(open_run_directory(mine, false).state(), RunState::kResume);
  EXPECT_FALSE(std::filesystem::exists(mine / kRunMarker));
}

TEST(RunDirectory, OverwriteKeepsTheOldRunUntilCommitAndRestoresItOnFailure) {
  testing::TempDir dir;
  const auto run = dir / "run";
  open_run_directory(run, false);
  std::ofstream(run / kRunConfigFile) << "run: {}\n";
  std::ofstream(run / kRunSummaryFile) << "{\"old\": 1}";
  std::ofstream(run / "model.safetensors") << "weights";
  const auto before = listing(run);
  // A failure before commit: the new directory goes, the old run comes back unchanged.
  try {
    const RunDirectory opened = open_run_directory(run, true);
    EXPECT_EQ(opened.state(), RunState::kFresh);
    EXPECT_FALSE(std::filesystem::exists(run / "model.safetensors"));
    std::ofstream(run / kRunConfigFile) << "run: {new: 1}\n";
    throw InputError("bad manifest");
  } catch (const InputError&) {
  }
  EXPECT_EQ(listing(run), before);
  EXPECT_EQ(contents(run / "model.safetensors"), "weights");
  EXPECT_EQ(contents(run / kRunConfigFile), "run: {}\n");
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"run"}));  // nothing left aside
  // A fresh run that fails leaves nothing at all.
  try {
    const RunDirectory opened = open_run_directory(dir / "new", false);
    throw Error("disk full");
  } catch (const Error&) {
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "new"));
  // Committed: the old run is gone for good, nothing is left aside.
  {
    RunDirectory opened = open_run_directory(run, true);
    opened.commit();
    std::ofstream(run / kRunConfigFile) << "run: {new: 1}\n";
  }
  EXPECT_EQ(listing(dir.path()), (std::vector<std::string>{"run"}));
  EXPECT_EQ(listing(run), (std::vector<std::string>{kRunMarker, kRunConfigFile}));
}

}  // namespace
}  // namespace cltci::common
