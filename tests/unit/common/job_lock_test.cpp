#include "cltci/common/job_lock.h"

#include "common_test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <thread>

namespace cltci::common {
namespace {

namespace fs = std::filesystem;

/// A lock as another runner would have left it, its heartbeat `age_s` seconds old.
void plant_lock(const fs::path& file, const std::string& host, long pid, double age_s) {
  std::ofstream(file) << host << " " << pid << " 2020-01-01T00:00:00Z\n";
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= static_cast<time_t>(age_s);
  times[1] = times[0];
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
}

// Above Linux's largest pid_max (2^22), so it never names a live process.
constexpr long kDeadPid = 999999999;

TEST(SweepJobLock, TakesAFreeLockAndReleasesIt) {
  testing::TempDir dir;
  const fs::path file = dir / "locks" / "job.lock";
  {
    auto lock = JobLock::try_acquire(file, 60, 10);
    ASSERT_TRUE(lock);
    EXPECT_TRUE(fs::exists(file));
    const auto holder = read_lock(file, 60);
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->host, host_name());
    EXPECT_EQ(holder->pid, static_cast<long>(getpid()));
    EXPECT_FALSE(holder->stale);
    // Held: a second runner is refused.
    EXPECT_FALSE(JobLock::try_acquire(file, 60, 10));
  }
  EXPECT_FALSE(fs::exists(file));
}

TEST(SweepJobLock, ReclaimsALockWhoseHeartbeatIsOld) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  plant_lock(file, "other-host", 1234, 3600);
  const auto holder = read_lock(file, 600);
  ASSERT_TRUE(holder);
  EXPECT_TRUE(holder->stale);
  EXPECT_NE(holder->why_stale.find("heartbeat"), std::string::npos);
  auto lock = JobLock::try_acquire(file, 600, 10);
  ASSERT_TRUE(lock);
  EXPECT_EQ(read_lock(file, 600)->host, host_name());
  // Nothing of the reclaim is left beside the lock.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(SweepJobLock, KeepsALiveLockOfAnotherHost) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  plant_lock(file, "other-host", 1234, 5);
  EXPECT_FALSE(read_lock(file, 600)->stale);
  EXPECT_FALSE(JobLock::try_acquire(file, 600, 10));
  EXPECT_TRUE(fs::exists(file));
}

TEST(SweepJobLock, ReclaimsAtOnceTheLockOfADeadProcessOnThisHost) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  plant_lock(file, host_name(), kDeadPid, 1);
  const auto holder = read_lock(file, 600);
  EXPECT_TRUE(holder->stale);
  EXPECT_NE(holder->why_stale.find("is gone"), std::string::npos);
  EXPECT_TRUE(JobLock::try_acquire(file, 600, 10));
}

TEST(SweepJobLock, OnlyOneReclaimerWinsAStaleLock) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  plant_lock(file, "other-host", 1234, 3600);
  // A second reclaimer holds the guard for this state of the lock: this one must back off.
  struct stat info {};
  ASSERT_EQ(stat(file.c_str(), &info), 0);
  const fs::path guard = file.string() + ".reclaim." + std::to_string(info.st_ino) + "." +
                         std::to_string(info.st_mtim.tv_sec) + "." +
                         std::to_string(info.st_mtim.tv_nsec);
  std::ofstream(guard) << "";
  EXPECT_FALSE(reclaim_stale_lock(file, 600));
  EXPECT_FALSE(JobLock::try_acquire(file, 600, 10));
  EXPECT_TRUE(fs::exists(file));
  // Once the guard is gone (its reclaimer finished or died), the lock can be reclaimed.
  fs::remove(guard);
  EXPECT_TRUE(reclaim_stale_lock(file, 600));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(reclaim_stale_lock(file, 600));  // nothing left to reclaim
}

TEST(SweepJobLock, HeartbeatRefreshesTheMtime) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  auto lock = JobLock::try_acquire(file, 600, 0.05);
  ASSERT_TRUE(lock);
  struct timespec past[2];
  clock_gettime(CLOCK_REALTIME, &past[0]);
  past[0].tv_sec -= 3600;
  past[1] = past[0];
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), past, 0), 0);
  EXPECT_GT(read_lock(file, 600)->heartbeat_age_s, 3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LT(read_lock(file, 600)->heartbeat_age_s, 5);
  EXPECT_FALSE(lock->lost());
}

TEST(SweepJobLock, NoticesWhenItsLockWasTaken) {
  testing::TempDir dir;
  const fs::path file = dir / "job.lock";
  auto lock = JobLock::try_acquire(file, 600, 0.05);
  ASSERT_TRUE(lock);
  fs::remove(file);
  plant_lock(file, "other-host", 1, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(lock->lost());
  lock.reset();
  EXPECT_TRUE(fs::exists(file));  // the other runner's lock is not removed
}

}  // namespace
}  // namespace cltci::common
