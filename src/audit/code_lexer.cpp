#include "audit/code_lexer.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace armored::audit {

std::optional<CommentStyle> comment_style_for(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  std::string ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::set<std::string> kC = {".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh",
                                           ".ino", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx",
                                           ".go", ".java", ".kt", ".rs", ".cs", ".swift", ".scala",
                                           ".dart", ".php", ".m", ".mm"};
  static const std::set<std::string> kHash = {".sh", ".bash", ".zsh", ".yaml", ".yml", ".toml",
                                              ".ini", ".cfg", ".conf", ".cmake", ".rb", ".pl",
                                              ".env", ".properties", ".service"};
  if (kC.count(ext)) return CommentStyle::kCStyle;
  if (ext == ".py" || ext == ".pyw") return CommentStyle::kPython;
  if (kHash.count(ext)) return CommentStyle::kHash;
  if (ext == ".json") return CommentStyle::kNone;
  if (name == "Dockerfile" || name == "Makefile" || name == "CMakeLists.txt" || name == ".env" ||
      name.starts_with(".env.")) {
    return CommentStyle::kHash;
  }
  return std::nullopt;
}

std::string CommentStripper::strip(std::string_view line) {
  std::string out(line);
  char in_string = 0;  // quote char of the single-line string we are in
  for (std::size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (in_block_) {
      if (c == '*' && i + 1 < out.size() && out[i + 1] == '/') {
        out[i] = out[i + 1] = ' ';
        ++i;
        in_block_ = false;
      } else {
        out[i] = ' ';
      }
      continue;
    }
    if (in_triple_) {
      if (c == in_triple_ && line.substr(i, 3) == std::string(3, in_triple_)) {
        out[i] = out[i + 1] = out[i + 2] = ' ';
        i += 2;
        in_triple_ = 0;
      } else {
        out[i] = ' ';
      }
      continue;
    }
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == in_string) {
        in_string = 0;
      }
      continue;
    }
    if (style_ == CommentStyle::kPython && (c == '"' || c == '\'') &&
        line.substr(i, 3) == std::string(3, c)) {
      // Docstrings and other triple-quoted text are prose, not code.
      in_triple_ = c;
      out[i] = out[i + 1] = out[i + 2] = ' ';
      i += 2;
      continue;
    }
    if (c == '"' || c == '\'' || (c == '`' && style_ == CommentStyle::kCStyle)) {
      in_string = c;
      continue;
    }
    if (style_ == CommentStyle::kCStyle && c == '/' && i + 1 < out.size()) {
      if (out[i + 1] == '/') {
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(i), out.end(), ' ');
        break;
      }
      if (out[i + 1] == '*') {
        out[i] = out[i + 1] = ' ';
        ++i;
        in_block_ = true;
        continue;
      }
    }
    if ((style_ == CommentStyle::kHash || style_ == CommentStyle::kPython) && c == '#') {
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(i), out.end(), ' ');
      break;
    }
  }
  return out;
}

}  // namespace armored::audit
