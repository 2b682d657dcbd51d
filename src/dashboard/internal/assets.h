#pragma once
// The dashboard's static files (assets/), compiled into the binary so the
// cloud serves them with no file to install and nothing fetched at run
// time. Generated at build time by embed_assets.cmake.

#include <string_view>

namespace armored::dashboard {

struct Asset {
  std::string_view path;          // "/index.html", "/vendor/uplot/uPlot.iife.min.js"
  std::string_view content_type;
  std::string_view body;
};

// The asset served at `path`, or null.
const Asset* find_asset(std::string_view path);

}  // namespace armored::dashboard
