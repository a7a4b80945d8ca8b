/* Many threads in several processes creating, renaming, linking and
 * deleting in the same directories at once; then a walk of the tree checks
 * what must hold whatever the interleaving: every listed name stats, a
 * directory's link count is 2 plus its subdirectories, a file's link count
 * is the number of names it has, names are unique. Run natively on a real
 * tmpfs and under the sentry. Usage: tmpfs_stress DIR */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROCS 3
#define THREADS 4
#define OPS 1500

static int unexpected;

static void expect(int r, const char* what) {
  if (r == 0 || r > 0) return;
  switch (errno) {
    case ENOENT: case EEXIST: case ENOTEMPTY: case EISDIR: case ENOTDIR: case EINVAL: case EBUSY:
    case EPERM:  /* link of a directory */
    case ELOOP:
      return;  /* the race lost: fine */
    default:
      __atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED);
      fprintf(stderr, "%s: unexpected errno %d\n", what, errno);
  }
}

static void* worker(void* arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  char a[64], b[64];
  for (int i = 0; i < OPS; i++) {
    int op = rand_r(&seed) % 9;
    snprintf(a, sizeof a, "d%d/n%d", rand_r(&seed) % 4, rand_r(&seed) % 8);
    snprintf(b, sizeof b, "d%d/n%d", rand_r(&seed) % 4, rand_r(&seed) % 8);
    switch (op) {
      case 0: {
        int fd = open(a, O_CREAT | O_WRONLY | O_APPEND, 0644);
        expect(fd, "open");
        if (fd >= 0) {
          expect((int)write(fd, "x", 1), "write");
          close(fd);
        }
        break;
      }
      case 1: expect(rename(a, b), "rename"); break;
      case 2: expect(unlink(a), "unlink"); break;
      case 3: expect(mkdir(a, 0755), "mkdir"); break;
      case 4: expect(rmdir(a), "rmdir"); break;
      case 5: expect(link(a, b), "link"); break;
      case 6: expect(symlink("../d0", a), "symlink"); break;
      case 7: {
        struct stat st;
        expect(stat(a, &st), "stat");
        break;
      }
      case 8: {
        snprintf(b, sizeof b, "d%d/n%d/n%d", rand_r(&seed) % 4, rand_r(&seed) % 8, rand_r(&seed) % 8);
        expect(rename(a, b), "rename into");
        break;
      }
    }
  }
  return NULL;
}

struct seen {
  ino_t ino;
  int names;
  nlink_t nlink;
};
static struct seen inodes[100000];
static int ninodes, violations;

static void walk(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) {
    violations++;
    fprintf(stderr, "opendir %s: %d\n", dir, errno);
    return;
  }
  struct stat self;
  stat(dir, &self);
  int subdirs = 0;
  char names[512][64];
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    for (int i = 0; i < n; i++)
      if (!strcmp(names[i], e->d_name)) {
        violations++;
        fprintf(stderr, "%s: %s listed twice\n", dir, e->d_name);
      }
    if (n < 512) snprintf(names[n++], 64, "%s", e->d_name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) {
      violations++;
      fprintf(stderr, "lstat %s: %d\n", path, errno);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      subdirs++;
      walk(path);
    } else {
      int i;
      for (i = 0; i < ninodes && inodes[i].ino != st.st_ino; i++) {
      }
      if (i == ninodes && ninodes < 100000) inodes[ninodes++] = (struct seen){st.st_ino, 0, st.st_nlink};
      inodes[i].names++;
    }
  }
  closedir(d);
  if (self.st_nlink != (nlink_t)(2 + subdirs)) {
    violations++;
    fprintf(stderr, "%s: nlink %lu, %d subdirectories\n", dir, (unsigned long)self.st_nlink, subdirs);
  }
}

int main(int argc, char** argv) {
  if (argc != 2 || chdir(argv[1]) != 0) return 2;
  for (int i = 0; i < 4; i++) {
    char d[8];
    snprintf(d, sizeof d, "d%d", i);
    mkdir(d, 0755);
  }
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      pthread_t t[THREADS];
      for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void*)(uintptr_t)(p * 100 + i + 1));
      for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
      _exit(unexpected ? 1 : 0);
    }
  }
  int bad = 0;
  for (int p = 0; p < PROCS; p++) {
    int status;
    waitpid(pids[p], &status, 0);
    bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  walk(".");
  for (int i = 0; i < ninodes; i++)
    if ((nlink_t)inodes[i].names != inodes[i].nlink) {
      violations++;
      fprintf(stderr, "inode %lu: %d names, nlink %lu\n", (unsigned long)inodes[i].ino, inodes[i].names,
              (unsigned long)inodes[i].nlink);
    }
  printf("tmpfs_stress: %d processes x %d threads x %d operations; %d inodes after; %d failed workers, %d violations\n",
         PROCS, THREADS, OPS, ninodes, bad, violations);
  return bad || violations ? 1 : 0;
}
