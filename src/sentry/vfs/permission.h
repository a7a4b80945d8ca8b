// Linux's permission checks (fs/namei.c generic_permission, may_delete,
// may_create; fs/attr.c) for the sentry's inodes. Instrumented.
#pragma once

#include "sentry/credentials.h"
#include "sentry/vfs/inode.h"

namespace ukcov::sentry {

enum : int { kMayExec = 1, kMayWrite = 2, kMayRead = 4 };

// 0, EACCES, or EPERM for a write to an immutable inode.
int Permission(const Inode& inode, const Credentials& creds, int mask);
// Removing or renaming `victim` from `dir`: search+write on dir, an
// append-only dir, the sticky bit, an append-only or immutable victim. 0,
// EACCES or EPERM.
int MayDelete(const Inode& dir, const Inode& victim, const Credentials& creds);
// The caller owns the inode or has CAP_FOWNER (chmod, utimes to a given time, ...).
bool OwnerOrCapable(const Inode& inode, const Credentials& creds);
// A write or truncate by someone without CAP_FSETID (file_remove_privs,
// do_truncate): set-user-ID goes, and set-group-ID with group execute.
// Caller holds the inode's lock.
void DropSetIds(Inode& inode, const Credentials& creds);

}  // namespace ukcov::sentry
