#include "common/file_io.h"

#include <sys/stat.h>

#include <filesystem>
#include <gtest/gtest.h>

namespace armored {
namespace {
namespace fs = std::filesystem;

class FileIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("armored-fileio-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST_F(FileIo, AtomicWriteCreatesFileWithMode0600) {
  auto p = dir_ / "key";
  ASSERT_TRUE(write_file_atomic(p, as_bytes("secret")));
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_EQ(*read_text_file(p), "secret");
  ASSERT_TRUE(write_file_atomic(p, as_bytes("new")));
  EXPECT_EQ(*read_text_file(p), "new");
  // No temporary files are left behind.
  int n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++n;
  EXPECT_EQ(n, 1);
}

TEST_F(FileIo, ExclusiveWriteRefusesToOverwrite) {
  auto p = dir_ / "crt";
  ASSERT_TRUE(write_file_exclusive(p, as_bytes("one"), 0644));
  EXPECT_EQ(mode_of(p), 0644u);
  auto again = write_file_exclusive(p, as_bytes("two"));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(*read_text_file(p), "one");
}

TEST_F(FileIo, ReadRefusesOversizedAndMissingFiles) {
  auto p = dir_ / "big";
  ASSERT_TRUE(write_file_atomic(p, as_bytes(std::string(100, 'x'))));
  EXPECT_FALSE(read_file(p, 99));
  EXPECT_TRUE(read_file(p, 100));
  auto missing = read_file(dir_ / "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST_F(FileIo, WriteIntoMissingDirectoryFails) {
  EXPECT_FALSE(write_file_atomic(dir_ / "no" / "such" / "file", as_bytes("x")));
}

}  // namespace
}  // namespace armored
