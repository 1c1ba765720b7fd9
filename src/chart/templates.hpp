#pragma once

// Private to the chart module: the chart's static files (templates, NOTES.txt, .helmignore).

#include "sconectl/util/file_tree.hpp"

#include <string>

namespace sconectl::chart::detail {

// The template files of a chart named `chart_name` (used as the prefix of its named templates).
[[nodiscard]] fs::FileTree static_files(const std::string& chart_name);

}  // namespace sconectl::chart::detail
