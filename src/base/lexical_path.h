// Lexical path normalisation, shared by the sentry's path helpers and the
// tools: "." and repeated slashes go, ".." removes the name before it (and
// is dropped at the root). An absolute path stays absolute ("/" at least);
// a relative one stays relative ("" for nothing left).
#pragma once

#include <string>
#include <vector>

namespace ukcov {

inline std::string NormalizeLexically(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  const bool absolute = !path.empty() && path[0] == '/';
  std::string out;
  for (const std::string& p : parts) out += (out.empty() && !absolute ? "" : "/") + p;
  return absolute && out.empty() ? "/" : out;
}

}  // namespace ukcov
