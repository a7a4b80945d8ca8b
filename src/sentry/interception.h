// How much of the guest's syscalls the sentry intercepts (docs/sentry.md,
// "Interception modes"). Plumbing: not instrumented.
#pragma once

#include <optional>
#include <string_view>

namespace ukcov::sentry {

enum class Interception {
  // Every call that might be the sentry's: those on a path (a mount's, the
  // kcov device's) or on an fd (one of its files). The kcov device is a
  // memfd the guest holds; nothing needs privileges.
  kAll,
  // Only what the sentry serves that the host cannot route to it: the kcov
  // device and debugfs are a FUSE mount in the guest's own mount namespace,
  // so opens, reads, writes, stats and ioctls of host files and of the
  // device alike run untrapped (the host sends the device's to the sentry
  // over FUSE). Needs CAP_SYS_ADMIN (a mount namespace) and /dev/fuse, and
  // no mount of the sentry's (--tmpfs needs the full set).
  kServed,
};

inline const char* Name(Interception mode) { return mode == Interception::kServed ? "served" : "all"; }
inline std::optional<Interception> ParseInterception(std::string_view name) {
  if (name == "all") return Interception::kAll;
  if (name == "served") return Interception::kServed;
  return std::nullopt;
}

}  // namespace ukcov::sentry
