#include "sentry/vfs/permission.h"

#include <cerrno>

namespace ukcov::sentry {

int Permission(const Inode& inode, const Credentials& creds, int mask) {
  // inode_permission: nobody writes an immutable inode.
  if ((mask & kMayWrite) && inode.immutable()) return EPERM;
  mode_t mode = inode.mode;
  mode_t bits;
  if (creds.fsuid == inode.uid)
    bits = (mode >> 6) & 7;
  else if (creds.InGroup(inode.gid))
    bits = (mode >> 3) & 7;
  else
    bits = mode & 7;
  if ((mask & ~static_cast<int>(bits)) == 0) return 0;
  if (inode.is_dir()) {
    // DACs are overridable for directories.
    if (!(mask & kMayWrite) && creds.Capable(CAP_DAC_READ_SEARCH)) return 0;
    if (creds.Capable(CAP_DAC_OVERRIDE)) return 0;
    return EACCES;
  }
  if (mask == kMayRead && creds.Capable(CAP_DAC_READ_SEARCH)) return 0;
  // Execute is overridable only when some execute bit is set.
  if ((!(mask & kMayExec) || (mode & 0111)) && creds.Capable(CAP_DAC_OVERRIDE)) return 0;
  return EACCES;
}

bool OwnerOrCapable(const Inode& inode, const Credentials& creds) {
  return creds.fsuid == inode.uid || creds.Capable(CAP_FOWNER);
}

void DropSetIds(Inode& inode, const Credentials& creds) {
  if (creds.Capable(CAP_FSETID)) return;
  inode.mode &= ~S_ISUID;
  if ((inode.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) inode.mode &= ~S_ISGID;
}

int MayDelete(const Inode& dir, const Inode& victim, const Credentials& creds) {
  if (int e = Permission(dir, creds, kMayWrite | kMayExec)) return e;
  if (dir.append_only()) return EPERM;
  if ((dir.mode & S_ISVTX) && creds.fsuid != victim.uid && creds.fsuid != dir.uid && !creds.Capable(CAP_FOWNER))
    return EPERM;
  if (victim.append_only() || victim.immutable()) return EPERM;
  return 0;
}

}  // namespace ukcov::sentry
