#pragma once
// Just enough lexing for `audit code`: blanks out comments (and Python
// docstrings) so that a comment explaining why not to disable verification
// is not a finding, while string literals stay visible. Line by line, with
// the block-comment state carried across lines.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace armored::audit {

enum class CommentStyle : std::uint8_t {
  kCStyle,  // // and /* */ : C, C++, Go, JS/TS, Java, Rust, C#, Swift, Kotlin
  kHash,    // # : shell, YAML, TOML, INI, CMake, Dockerfile, Ruby
  kPython,  // # and triple-quoted docstrings
  kNone,    // JSON
};

// The comment style for a source file, or nullopt when the file is not code
// or configuration `audit code` reads (documentation, data, binaries).
std::optional<CommentStyle> comment_style_for(const std::filesystem::path& path);

class CommentStripper {
 public:
  explicit CommentStripper(CommentStyle style) : style_(style) {}
  // Returns the line with comment characters replaced by spaces (same length,
  // so columns still match the original).
  std::string strip(std::string_view line);

 private:
  CommentStyle style_;
  bool in_block_ = false;   // inside /* ... */
  char in_triple_ = 0;      // inside a Python """ or ''' string (the quote char)
};

}  // namespace armored::audit
