/* kcov of a tmpfs: a thread's area shows the filesystem code that served its
 * calls, and the PCs differ by the path taken. A successful mkdir, an EEXIST
 * mkdir and an ENOENT mkdir record different sets of PCs; the same call on
 * the same state (a directory made, removed and made again; an EEXIST
 * repeated) records the same set. Usage: tmpfs_kcov DIR (a tmpfs: the
 * sentry's under `ukcov run --tmpfs`, Linux's on the oracle kernel). One
 * line per check (kcov_guest.h). */
#include "kcov_guest.h"

#include <sys/stat.h>

#define WORDS (256 << 10)

static void mkdir_a(void) { (void)mkdir("a", 0755); }
static void rmdir_a(void) { (void)rmdir("a"); }
static void mkdir_missing(void) { (void)mkdir("none/c", 0755); }

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  kcov_section = "tmpfs_kcov";
  /* A tmpfs symlink to the device leads to it, as a path walk does. */
  EXPECT_CALL("symlink to the kcov device", symlink(KCOV_PATH, "kcov_link"), "0");
  int via_link = open("kcov_link", O_RDWR);
  EXPECT_CALL("INIT_TRACE through the symlink", ioctl(via_link, KCOV_INIT_TRACE, 64), "0");
  close(via_link);
  unlink("kcov_link");
  uint64_t* area;
  int fd = kcov_ready(WORDS, &area);
  EXPECT_YES("open, INIT_TRACE, mmap", fd >= 0);
  if (fd < 0) return kcov_summary("tmpfs_kcov");
  EXPECT_CALL("ENABLE", ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC), "0");
  struct kcov_pcs created = kcov_stable_trace_undo(area, WORDS, mkdir_a, rmdir_a);
  EXPECT_YES("mkdir of a new name: the same PCs each time", created.n > 0);
  mkdir_a();
  struct kcov_pcs exists = kcov_stable_trace(area, WORDS, mkdir_a);
  EXPECT_YES("mkdir of an existing name (EEXIST): the same PCs each time", exists.n > 0);
  struct kcov_pcs missing = kcov_stable_trace(area, WORDS, mkdir_missing);
  EXPECT_YES("mkdir under a missing directory (ENOENT): the same PCs each time", missing.n > 0);
  EXPECT_CALL("DISABLE", ioctl(fd, KCOV_DISABLE, 0), "0");
  EXPECT_YES("new and EEXIST differ", !kcov_pcs_equal(&created, &exists));
  EXPECT_YES("EEXIST and ENOENT differ", !kcov_pcs_equal(&exists, &missing));
  EXPECT_YES("new and ENOENT differ", !kcov_pcs_equal(&created, &missing));
  EXPECT_YES("every PC is in the kernel text range",
             kcov_pcs_all_in_text(&created) && kcov_pcs_all_in_text(&exists) && kcov_pcs_all_in_text(&missing));
  rmdir_a();
  return kcov_summary("tmpfs_kcov");
}
