// The process resource limit files obey: RLIMIT_FSIZE (fs/read_write.c
// generic_write_check_limits, fs/attr.c inode_newsize_ok). Instrumented.
#pragma once

#include <cstdint>

namespace ukcov::sentry {

struct TaskState;

// The task's RLIMIT_FSIZE soft limit, read from the host (the guest's own
// limit, which setrlimit changes without the sentry's knowing);
// UINT64_MAX (RLIM_INFINITY) when there is none.
uint64_t FileSizeLimit(const TaskState& task);

// A file would grow past the limit: SIGXFSZ to the calling thread, as
// Linux sends it, and the errno to answer, EFBIG.
int FileSizeExceeded(const TaskState& task);

// inode_newsize_ok's check for a file growing from `old_size` to
// `new_size`: 0, or FileSizeExceeded's EFBIG.
int CheckFileGrowth(const TaskState& task, uint64_t old_size, uint64_t new_size);

}  // namespace ukcov::sentry
