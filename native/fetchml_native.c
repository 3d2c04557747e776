/*
 * fetchml's optional native helper: the stat check of a warm snapshot, on several threads.
 *
 * A warm snapshot of a large tree is one lstat per file and little else. From JavaScript each
 * lstatSync costs several microseconds on top of the system call (Node builds a Stats object with
 * four Dates), and the calls run on one thread; git status does the same check from C on several
 * threads. This helper does what src/snapshot/stat-check.ts does, the same way, in C:
 *
 *   checkStats(root, paths, expect, found, status, threads): void
 *   startCheck(root, paths, expect, found, status, threads): handle   (threads of its own)
 *   finishCheck(handle): void                                          (waits; helps with the rest)
 *
 *   root    the tree's absolute path
 *   paths   root-relative paths joined by NUL
 *   expect  per path: size, mtimeMs, ctimeMs, ino, dev (the stat cache record)
 *   found   per path (out): size, mtimeMs, ctimeMs, ino, dev, 1 if any execute bit is set
 *   status  per path (out): 1 same, 2 different (or unreadable: the hasher reports it), 3 gone
 *           (vanished, or no longer a regular file)
 *
 * Numbers are computed as Node computes them (mtimeMs = sec * 1e3 + nsec / 1e6, in doubles;
 * -ffp-contract=off keeps the compiler from fusing it), so they compare equal to what
 * fs.lstatSync and fs.fstatSync give and to what the stat cache holds.
 *
 * Built by scripts/build-native.mjs with the system C compiler against Node-API (headers that ship
 * with Node; no node-gyp, no download). Optional: src/snapshot/native.ts falls back to JavaScript
 * when it is not built or fails to load.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>

#define EXPECT 5
#define FOUND 6
#define CHUNK 64
#define MAX_THREADS 16

enum { SAME = 1, DIFFERENT = 2, GONE = 3 };

struct job {
  int root_fd;
  char *paths;          /* NUL-separated, NUL-terminated */
  size_t *offsets;      /* start of each path in `paths` */
  size_t n;
  const double *expect;
  double *found;
  unsigned char *status;
  size_t next; /* next index to claim (atomic) */
};

static double ms_of(struct timespec ts) {
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1000000.0;
}

static void *work(void *arg) {
  struct job *job = arg;
  for (;;) {
    size_t from = __atomic_fetch_add(&job->next, CHUNK, __ATOMIC_RELAXED);
    if (from >= job->n) return NULL;
    size_t to = from + CHUNK < job->n ? from + CHUNK : job->n;
    for (size_t i = from; i < to; i++) {
      struct stat st;
      if (fstatat(job->root_fd, job->paths + job->offsets[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
        job->status[i] = errno == ENOENT || errno == ENOTDIR ? GONE : DIFFERENT;
        continue;
      }
      if (!S_ISREG(st.st_mode)) {
        job->status[i] = GONE;
        continue;
      }
      double *f = job->found + i * FOUND;
      f[0] = (double)st.st_size;
      f[1] = ms_of(st.st_mtim);
      f[2] = ms_of(st.st_ctim);
      f[3] = (double)st.st_ino;
      f[4] = (double)st.st_dev;
      f[5] = (st.st_mode & 0111) != 0 ? 1 : 0;
      const double *e = job->expect + i * EXPECT;
      job->status[i] = e[0] == f[0] && e[1] == f[1] && e[2] == f[2] && e[3] == f[3] && e[4] == f[4]
                           ? SAME
                           : DIFFERENT;
    }
  }
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data) {
  napi_typedarray_type type;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, data, NULL, NULL) != napi_ok) return 0;
  return type == want && len >= min;
}

static char *string_arg(napi_env env, napi_value v, size_t *len) {
  if (napi_get_value_string_utf8(env, v, NULL, 0, len) != napi_ok) return NULL;
  char *out = malloc(*len + 1);
  if (out == NULL) return NULL;
  if (napi_get_value_string_utf8(env, v, out, *len + 1, len) != napi_ok) {
    free(out);
    return NULL;
  }
  return out;
}

/* A check in flight: its threads, and what they read and write (kept alive by `refs`). */
struct running {
  struct job job;
  pthread_t ids[MAX_THREADS];
  int started;
  int finished;
  char *root;
  napi_ref refs[3];
};

static void finish(struct running *run) {
  if (run->finished) return;
  for (int t = 0; t < run->started; t++) pthread_join(run->ids[t], NULL);
  run->finished = 1;
  close(run->job.root_fd);
  free(run->root);
  free(run->job.paths);
  free(run->job.offsets);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct running *run = data;
  finish(run); /* never left running past its handle */
  free(run);
}

/* Parses the arguments and starts the threads (all of them: the caller's thread goes on). */
static struct running *start(napi_env env, napi_callback_info info, int *sync_threads) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, NULL, "checkStats(root, paths, expect, found, status, threads)");
    return NULL;
  }
  size_t root_len = 0, paths_len = 0;
  char *root = string_arg(env, argv[0], &root_len);
  char *paths = string_arg(env, argv[1], &paths_len);
  int32_t threads = 1;
  napi_get_value_int32(env, argv[5], &threads);
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  size_t n = 0;
  size_t *offsets = NULL;
  if (root != NULL && paths != NULL) {
    n = paths_len == 0 ? 0 : 1;
    for (size_t i = 0; i < paths_len; i++)
      if (paths[i] == 0) n++;
    offsets = malloc((n + 1) * sizeof *offsets);
  }
  void *expect = NULL, *found = NULL, *status = NULL;
  struct running *run = calloc(1, sizeof *run);
  if (root == NULL || paths == NULL || offsets == NULL || run == NULL ||
      !typed(env, argv[2], napi_float64_array, n * EXPECT, &expect) ||
      !typed(env, argv[3], napi_float64_array, n * FOUND, &found) ||
      !typed(env, argv[4], napi_uint8_array, n, &status)) {
    free(root);
    free(paths);
    free(offsets);
    free(run);
    napi_throw_type_error(env, NULL, "checkStats: bad arguments (strings, or typed arrays too small)");
    return NULL;
  }
  size_t k = 0;
  if (n > 0) offsets[k++] = 0;
  for (size_t i = 0; i < paths_len; i++)
    if (paths[i] == 0) offsets[k++] = i + 1;
  int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    int e = errno;
    free(root);
    free(paths);
    free(offsets);
    free(run);
    napi_throw_error(env, e == ENOENT ? "ENOENT" : "EIO", "checkStats: cannot open the tree's root");
    return NULL;
  }
  struct job job = {root_fd, paths, offsets, n, expect, found, status, 0};
  run->job = job;
  run->root = root;
  for (int a = 0; a < 3; a++) napi_create_reference(env, argv[2 + a], 1, &run->refs[a]);
  /* A thread per CHUNK*4 paths at most (small checks are not worth a thread's start), and
     always one when the caller is not taking part. */
  int want = (int)(n / (CHUNK * 4)) + (1 - *sync_threads);
  if (want > threads - *sync_threads) want = threads - *sync_threads;
  for (int t = 0; t < want; t++)
    if (pthread_create(&run->ids[run->started], NULL, work, &run->job) == 0) run->started++;
  return run;
}

static void release(napi_env env, struct running *run) {
  for (int a = 0; a < 3; a++) {
    if (run->refs[a] != NULL) napi_delete_reference(env, run->refs[a]);
    run->refs[a] = NULL;
  }
}

/* checkStats(...): the whole check, the calling thread taking part; returns when done. */
static napi_value check_stats(napi_env env, napi_callback_info info) {
  int sync_threads = 1;
  struct running *run = start(env, info, &sync_threads);
  if (run == NULL) return NULL;
  work(&run->job);
  finish(run);
  release(env, run);
  free(run);
  return NULL;
}

/*
 * startCheck(...): starts the check on `threads` threads of its own and returns a handle at
 * once; the caller goes on (walking the tree) meanwhile. finishCheck(handle) waits for it.
 */
static napi_value start_check(napi_env env, napi_callback_info info) {
  int sync_threads = 0;
  struct running *run = start(env, info, &sync_threads);
  if (run == NULL) return NULL;
  napi_value handle;
  if (napi_create_external(env, run, finalize, NULL, &handle) != napi_ok) {
    finish(run);
    release(env, run);
    free(run);
    napi_throw_error(env, NULL, "startCheck: cannot create a handle");
    return NULL;
  }
  return handle;
}

static napi_value finish_check(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "finishCheck(handle)");
    return NULL;
  }
  struct running *run = data;
  if (!run->finished) work(&run->job); /* help with what is left */
  finish(run);
  release(env, run);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "checkStats", NAPI_AUTO_LENGTH, check_stats, NULL, &fn);
  napi_set_named_property(env, exports, "checkStats", fn);
  napi_create_function(env, "startCheck", NAPI_AUTO_LENGTH, start_check, NULL, &fn);
  napi_set_named_property(env, exports, "startCheck", fn);
  napi_create_function(env, "finishCheck", NAPI_AUTO_LENGTH, finish_check, NULL, &fn);
  napi_set_named_property(env, exports, "finishCheck", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
