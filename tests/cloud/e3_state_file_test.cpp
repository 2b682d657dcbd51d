// The E3 state file's two writers: a snapshot older than the one on disk is
// skipped, so a late write from the storage thread cannot roll back a
// command-sequence reservation the network thread persisted.

#include "cloud/internal/e3_state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file_io.h"
#include "support/process.h"

namespace armored::cloud {
namespace {

// The opener state inside a snapshot file (after the magic and generation).
Bytes snapshot_payload(const std::filesystem::path& p) {
  Bytes f = read_file(p, 1 << 20).value();
  return f.size() >= 16 ? Bytes(f.begin() + 16, f.end()) : Bytes{};
}

TEST(E3StateFile, OlderSnapshotNeverOverwritesNewer) {
  armored::testing::TempDir tmp;
  E3StateFile f(tmp / "cloud.e3state");
  const auto older = f.next_generation();   // taken first (e.g. queued with a PUBLISH)
  const Bytes newer_state = {2, 2, 2};
  ASSERT_TRUE(f.save(newer_state));         // the reservation, written at once
  ASSERT_TRUE(f.write(older, Bytes{1, 1})); // arrives late
  EXPECT_EQ(snapshot_payload(tmp / "cloud.e3state"), newer_state);
  EXPECT_EQ(f.skipped(), 1u);
  const auto later = f.next_generation();
  ASSERT_TRUE(f.write(later, Bytes{3}));
  EXPECT_EQ(snapshot_payload(tmp / "cloud.e3state"), Bytes{3});
  struct stat st{};
  ASSERT_EQ(::stat((tmp / "cloud.e3state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(E3StateFile, FailedWriteIsReportedAndDoesNotAdvance) {
  armored::testing::TempDir tmp;
  E3StateFile f(tmp / "missing-dir" / "cloud.e3state");
  EXPECT_FALSE(f.write(f.next_generation(), Bytes{1}));
  std::filesystem::create_directory(tmp / "missing-dir");
  // An older snapshot may still be written: nothing newer reached the disk.
  EXPECT_TRUE(f.write(1, Bytes{1}));
}

}  // namespace
}  // namespace armored::cloud
