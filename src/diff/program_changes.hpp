#pragma once

// Private to diff: the program area of a session comparison.

#include "change_list.hpp"

namespace sconectl::diff::detail {

// Services added or removed, per service its command, pwd, environment and other settings; images
// added or removed, per image its injection files and other settings. Values a manifest wrote are
// named, and shown only when the options allow.
void compare_program(const Json& live, const Json& proposed, ChangeList& changes);

}  // namespace sconectl::diff::detail
