// A progress line on the terminal for work that takes more than a second:
// "label: done/total (pct%)", redrawn in place on stderr. Nothing when
// stderr is not a terminal (logs and tests stay clean).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "tools/symbolizer.h"

namespace ukcov::tools {

inline Progress ProgressOnTerminal(std::string label) {
  if (!isatty(STDERR_FILENO)) return nullptr;
  struct State {
    std::string label;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    bool shown = false;
  };
  auto state = std::make_shared<State>();
  state->label = std::move(label);
  return [state](size_t done, size_t total) {
    const bool finished = done >= total;
    if (!state->shown && std::chrono::steady_clock::now() - state->start < std::chrono::seconds(1)) return;
    state->shown = true;
    std::fprintf(stderr, "\r%s: %zu/%zu (%zu%%)%s", state->label.c_str(), done, total,
                 total == 0 ? size_t{100} : done * 100 / total, finished ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace ukcov::tools
