#pragma once
// Near-miss diagnosis for command lines CLI11 refuses: a mistyped
// subcommand (`armored clowd`, `armored pki isue`) or option (`--conf`)
// is named, with the closest valid word, instead of CLI11's "A subcommand
// is required" or "--config is required".

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace armored::cli {

// Edit distance (insertions, deletions, substitutions, adjacent swaps).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is near enough to be a typo (at
// most 2 edits, and fewer than half the word), or a candidate `word` is a
// prefix of; empty otherwise.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

// One line naming the first word of argv that is neither a subcommand nor
// an option where it stands, with a suggestion, or the command that still
// needs a subcommand; empty when every word is known (the parse error is
// then about something else, e.g. a value).
std::string explain_unknown_word(const CLI::App& root, int argc, const char* const* argv);

}  // namespace armored::cli
