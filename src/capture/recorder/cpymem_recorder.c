/*
 * cpymem recorder: logs every call of CPython's PYMEM_DOMAIN_MEM and PYMEM_DOMAIN_OBJ allocators and
 * of the arena allocator, in one global order, and takes real pymalloc dumps at markers.
 *
 * Loaded with LD_PRELOAD into the real interpreter binary by `cpymem capture`, which compiles this
 * file against that interpreter's headers (docs/capture.md). Configuration comes from the
 * environment (CPYMEM_*), read once in the constructor and then removed, so that processes the
 * script starts are neither recorded nor confused.
 *
 * The hooks are PEP 445's: PyMem_SetAllocator for MEM and OBJ, PyObject_SetArenaAllocator for
 * arenas. They are installed in a constructor, i.e. before Py_Main runs, so the log starts with the
 * interpreter's very first pymalloc call (Objects/obmalloc.c keeps its allocator tables in static
 * data that the runtime does not reset, unless PYTHONMALLOC / -X dev asks it to; see
 * hooks_installed()).
 *
 * What the recorder must never do: allocate through PyMem/PyObject itself (its buffers come from
 * libc and go out with write(2)), and dump from inside the arena-free hook (pymalloc calls it
 * before clearing the arena's bookkeeping; Objects/obmalloc.c pymalloc_free).
 *
 * Every record is appended when the hooked call returns, while the caller holds the GIL, which is
 * what gives one exact global order across threads. As a consequence the records of arenas that a
 * call created or released come just before that call's own record.
 */
#define _GNU_SOURCE 1
#ifdef CPYMEM_INTERNAL
/* Internal headers (installed under include/pythonX.Y/internal) give the layout of the runtime and
   interpreter structs: the GC's young-generation counter, and on 3.12+ the obmalloc state. */
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#ifdef CPYMEM_INTERNAL
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#else
#include "internal/pycore_pystate.h"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_obmalloc.h"
#endif
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Record layout: keep in step with docs/capture.md and src/ingest/events-bundle.ts. */
enum {
  OP_MALLOC = 1, OP_CALLOC = 2, OP_REALLOC = 3, OP_FREE = 4,
  OP_ARENA_ALLOC = 5, OP_ARENA_FREE = 6, OP_GC_START = 7, OP_GC_STOP = 8,
  OP_STATS = 9, OP_NOTE = 10,
};
enum { DOM_NONE = 0, DOM_MEM = 1, DOM_OBJ = 2 };
#define FLAG_NESTED 0x04u
#define FLAG_YOUNG 0x08u
#define FLAG_COLLECTING 0x10u

struct record {
  uint8_t op;
  uint8_t flags;   /* bits 0-1 domain, bit 2 nested arena call, bit 3 young valid, bit 4 the cyclic GC
                      was collecting (gcstate->collecting) when the record was appended */
  uint16_t thread; /* 0 = the thread that loaded the recorder (main); saturates at 65535 */
  int32_t young;   /* if bit 3: the GC's generations[0].count when appended, minus the value carried
                      by the previous record with bit 3 (0 before the first): deltas are mostly 0 or
                      ±1 and gzip to almost nothing, where the raw counts would triple the log */
  uint64_t size;
  uint64_t ptr;
  uint64_t result;
};
_Static_assert(sizeof(struct record) == 32, "record is 32 bytes");

#define HEADER_SIZE 64
#define FORMAT_VERSION 1
#define FEAT_YOUNG 0x1u
#define FEAT_ARENA_WALK 0x2u
#define FEAT_INTERNAL 0x4u
#define FEAT_GC_STATE 0x8u

enum { R_AT = 0, R_EVERY = 1, R_SCRIPT = 2, R_ATEXIT = 3, R_EXIT = 4 };
static const char *const REASONS[] = {"at", "every", "script", "atexit", "exit"};

/* One hooked domain: the allocator it wraps, and which domain it is. */
struct domain_hook {
  PyMemAllocatorEx orig;
  PyMemAllocatorEx hook;
  uint8_t domain;
};

static struct domain_hook g_mem = {.domain = DOM_MEM};
static struct domain_hook g_obj = {.domain = DOM_OBJ};
static PyObjectArenaAllocator g_arena_orig, g_arena_hook;

static int g_active;          /* recording in this process */
static pid_t g_owner;         /* the process the logs belong to (not a fork child) */
static char g_dir[PATH_MAX];
static int g_ev_fd = -1, g_mk_fd = -1, g_gc_fd = -1, g_nt_fd = -1;
static unsigned char *g_buf;
static size_t g_len, g_cap;
static uint64_t g_records;    /* records appended so far */
static uint64_t g_calls;      /* MEM/OBJ calls so far: the "event count" of --stats-at/--stats-every */
static uint64_t g_next_at = UINT64_MAX, g_next_every = UINT64_MAX, g_every;
static uint64_t *g_at;
static size_t g_at_n, g_at_i;
static int g_pending = -1;    /* a count marker waiting for a safe point, its reason */
static unsigned g_markers;
static unsigned g_notes;
static uint64_t g_gc_events;
static int g_exit_after_finalize; /* CPYMEM_EXIT_DUMP=after-finalize (params.ts decides per version) */
static int g_attached;         /* the Python helper called cpymem_attach() */
static int g_hooks_at_attach = -1;
static long long g_attach_record = -1; /* records appended before the helper attached: the script starts about here */
static int g_hooks_lost;       /* seen replaced at some check */
static uint64_t g_t0;          /* CLOCK_MONOTONIC at load, ns */
static int g_next_tid = 1;
static int g_exit_path;        /* 0 running, 1 exit(), 2 _exit() */
static int g_in_marker;
static int32_t g_last_young;   /* young count carried by the last record that had one */

static __thread int t_depth;   /* > 0 while inside a MEM/OBJ call of this thread */
static __thread int t_tid = -1;

/* Exported by every libpython 3.8–3.11, by none from 3.12 (looked up, never linked). */
static Py_ssize_t (*p_get_allocated_blocks)(void);
static PyThreadState *(*p_tstate_unchecked)(void);
static const char *(*p_allocator_name)(void);
static int (*p_debug_malloc_stats)(FILE *);

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return; /* disk full or the like: the bundle will be short, capture reports it */
    }
    p += w;
    n -= (size_t)w;
  }
}

static void flush_events(void) {
  if (g_len && g_ev_fd >= 0) write_all(g_ev_fd, g_buf, g_len);
  g_len = 0;
}

static inline uint16_t thread_id(void) {
  int t = t_tid;
  if (UNLIKELY(t < 0)) t = t_tid = __atomic_fetch_add(&g_next_tid, 1, __ATOMIC_RELAXED);
  return t > 65535 ? 65535 : (uint16_t)t;
}

#ifdef CPYMEM_INTERNAL
/* The cyclic GC's state (Modules/gcmodule.c ≤3.12, Python/gc.c 3.13): 3.8 keeps it in the runtime,
   3.9+ per interpreter (the main one: subinterpreters are not modelled). */
static inline struct _gc_runtime_state *gc_state(void) {
#if PY_VERSION_HEX >= 0x03090000
  PyInterpreterState *interp = _PyRuntime.interpreters.main;
  return interp ? &interp->gc : NULL;
#else
  return &_PyRuntime.gc;
#endif
}
#endif

/* The cyclic GC's allocation counter (+1 per GC-object allocation, -1 per GC-object free) and
   whether a collection is running, for the record being appended. */
static inline int young_count(int32_t *out, uint8_t *flags) {
#ifdef CPYMEM_INTERNAL
  struct _gc_runtime_state *gs = gc_state();
  if (gs == NULL) return 0;
  *out = gs->generations[0].count;
  if (gs->collecting) *flags |= FLAG_COLLECTING;
  return 1;
#else
  (void)out;
  (void)flags;
  return 0;
#endif
}

static inline void append(uint8_t op, uint8_t flags, uint64_t size, uint64_t ptr, uint64_t result) {
  if (UNLIKELY(g_len + sizeof(struct record) > g_cap)) flush_events();
  struct record *r = (struct record *)(g_buf + g_len);
  int32_t y = 0, dy = 0;
  if (young_count(&y, &flags)) {
    flags |= FLAG_YOUNG;
    dy = (int32_t)((uint32_t)y - (uint32_t)g_last_young);
    g_last_young = y;
  }
  r->op = op;
  r->flags = flags;
  r->thread = thread_id();
  r->young = dy;
  r->size = size;
  r->ptr = ptr;
  r->result = result;
  g_len += sizeof(struct record);
  g_records++;
}

/* ---------------------------------------------------------------- markers and dumps */

static void json_string(char *out, size_t cap, const char *s) {
  size_t o = 0;
  if (cap < 3) return;
  out[o++] = '"';
  for (; s && *s && o + 8 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  out[o++] = '"';
  out[o] = 0;
}

static int hooks_installed(void) {
  PyMemAllocatorEx cur_mem, cur_obj;
  PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &cur_mem);
  PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &cur_obj);
  int ok = cur_mem.malloc == g_mem.hook.malloc && cur_mem.ctx == &g_mem &&
           cur_obj.malloc == g_obj.hook.malloc && cur_obj.ctx == &g_obj;
  if (!ok) g_hooks_lost = 1;
  return ok;
}

/* sys.getallocatedblocks() without allocating: _Py_GetAllocatedBlocks() where libpython exports it
   (3.8–3.11); on 3.12+ the same sum computed here from the main interpreter's obmalloc state, as
   _PyInterpreterState_GetAllocatedBlocks does in Objects/obmalloc.c (raw fallbacks + the ref.count
   of every carved pool of every arena) plus the runtime's record of leaked interpreter blocks. */
static long long allocated_blocks(const char **source) {
  if (p_get_allocated_blocks) {
    *source = "_Py_GetAllocatedBlocks";
    return (long long)p_get_allocated_blocks();
  }
#if defined(CPYMEM_INTERNAL) && PY_VERSION_HEX >= 0x030C0000
  PyInterpreterState *interp = _PyRuntime.interpreters.main;
  if (interp == NULL) { *source = NULL; return -1; }
#if PY_VERSION_HEX >= 0x030D0000
  struct _obmalloc_state *st = interp->obmalloc;
  if (st == NULL) { *source = NULL; return -1; }
#else
  struct _obmalloc_state *st = &interp->obmalloc;
#endif
  long long n = (long long)st->mgmt.raw_allocated_blocks;
  for (unsigned i = 0; i < st->mgmt.maxarenas; i++) {
    struct arena_object *ao = &st->mgmt.arenas[i];
    if (ao->address == 0) continue;
    uintptr_t base = ((uintptr_t)ao->address + POOL_SIZE - 1) & ~(uintptr_t)(POOL_SIZE - 1);
    for (; base < (uintptr_t)ao->pool_address; base += POOL_SIZE) n += ((struct pool_header *)base)->ref.count;
  }
  n += (long long)_PyRuntime.obmalloc.interpreter_leaks;
  *source = "arena-walk";
  return n;
#else
  *source = NULL;
  return -1;
#endif
}

/* The name PYTHONMALLOC would give the allocators now in place ("pymalloc", "malloc",
   "pymalloc_debug", ...), when they are not ours. Only while the runtime is up: 3.12's
   _PyMem_GetCurrentAllocatorName takes a lock that finalisation has freed. */
static const char *allocator_name(int installed) {
  if (installed || !p_allocator_name || !Py_IsInitialized()) return NULL;
  return p_allocator_name();
}

static int have_thread_state(void) {
  return p_tstate_unchecked == NULL || p_tstate_unchecked() != NULL;
}

/* Take one marker: a `stats` record, a flush, and a real _PyObject_DebugMallocStats dump written
   with the original allocators swapped back in (with a hook on OBJ, _PyMem_PymallocEnabled() is
   false and the dump prints nothing). Nothing may allocate between the swaps: this runs under the
   GIL and calls only libc and the dump itself; the blocks count before and after proves it. */
static long long take_marker(int reason, const char *label, long long py_blocks) {
  if (!g_active || g_in_marker || getpid() != g_owner) return -1;
  g_in_marker = 1;
  unsigned index = g_markers++;
  const char *src_before = NULL, *src_after = NULL;
  long long before = allocated_blocks(&src_before);
  uint64_t record = g_records;
  append(OP_STATS, 0, (uint64_t)before, index, 0);
  flush_events();

  int installed = hooks_installed();
  char rel[64], path[PATH_MAX + 64];
  snprintf(rel, sizeof rel, "stats/%03u.txt", index);
  snprintf(path, sizeof path, "%s/%s", g_dir, rel);
  int printed = -1;
  long long in_before = -1, in_after = -1;
  long long dump_bytes = -1;
  uint64_t t = now_ns() - g_t0;
  FILE *f = fopen(path, "we");
  if (f) {
    PyMemAllocatorEx cur_mem, cur_obj;
    if (installed) {
      PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &cur_mem);
      PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &cur_obj);
      PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &g_mem.orig);
      PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &g_obj.orig);
    }
    in_before = allocated_blocks(&src_before);
    printed = p_debug_malloc_stats ? p_debug_malloc_stats(f) : -1;
    in_after = allocated_blocks(&src_after);
    if (installed) {
      PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &cur_mem);
      PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &cur_obj);
    }
    fflush(f);
    dump_bytes = (long long)ftell(f);
    fclose(f);
  }

  char jlabel[512], jsrc[64], jalloc[96];
  json_string(jlabel, sizeof jlabel, label ? label : "");
  json_string(jsrc, sizeof jsrc, src_before ? src_before : "");
  const char *an = allocator_name(installed);
  json_string(jalloc, sizeof jalloc, an ? an : "");
  char line[2048];
  int n = snprintf(line, sizeof line,
                   "{\"index\":%u,\"record\":%llu,\"calls\":%llu,\"reason\":\"%s\",\"label\":%s,\"file\":\"%s\","
                   "\"dumped\":%s,\"printed\":%d,\"bytes\":%lld,"
                   "\"allocated_blocks_before\":%lld,\"allocated_blocks_after\":%lld,\"allocated_blocks_source\":%s,"
                   "\"python_allocated_blocks\":%lld,\"hooks_installed\":%s,\"allocator\":%s,"
                   "\"thread\":%u,\"t_ns\":%llu}\n",
                   index, (unsigned long long)record, (unsigned long long)g_calls, REASONS[reason], jlabel,
                   f ? rel : "", f ? "true" : "false", printed, dump_bytes, in_before, in_after,
                   src_before ? jsrc : "null", py_blocks, installed ? "true" : "false", an ? jalloc : "null",
                   (unsigned)thread_id(), (unsigned long long)t);
  if (n > 0 && g_mk_fd >= 0) write_all(g_mk_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  g_in_marker = 0;
  return index;
}

static void schedule_next_count_marker(void) {
  while (g_at_i < g_at_n && g_at[g_at_i] <= g_calls) g_at_i++;
  g_next_at = g_at_i < g_at_n ? g_at[g_at_i] : UINT64_MAX;
  if (g_every) g_next_every = (g_calls / g_every + 1) * g_every;
}

/* Called after every MEM/OBJ record. A count marker fires only at a safe point: outside any
   allocator call of this thread (never inside the arena hooks) and, on 3.12+ where the dump reads
   the current interpreter, with a thread state. */
static inline void after_call(void) {
  uint64_t c = ++g_calls;
  if (LIKELY(c < g_next_at && c < g_next_every && g_pending < 0)) return;
  if (g_pending < 0) g_pending = (c >= g_next_at) ? R_AT : R_EVERY;
  schedule_next_count_marker();
  if (t_depth != 0 || !have_thread_state()) return;
  int reason = g_pending;
  g_pending = -1;
  take_marker(reason, NULL, -1);
}

/* ---------------------------------------------------------------- the hooks */

static void *hook_malloc(void *ctx, size_t n) {
  struct domain_hook *d = ctx;
  t_depth++;
  void *p = d->orig.malloc(d->orig.ctx, n);
  t_depth--;
  if (LIKELY(g_active)) {
    append(OP_MALLOC, d->domain, n, 0, (uintptr_t)p);
    after_call();
  }
  return p;
}

static void *hook_calloc(void *ctx, size_t nelem, size_t elsize) {
  struct domain_hook *d = ctx;
  t_depth++;
  void *p = d->orig.calloc(d->orig.ctx, nelem, elsize);
  t_depth--;
  if (LIKELY(g_active)) {
    /* PyMem_Calloc/PyObject_Calloc reject nelem*elsize overflow before calling the allocator. */
    append(OP_CALLOC, d->domain, (uint64_t)nelem * (uint64_t)elsize, 0, (uintptr_t)p);
    after_call();
  }
  return p;
}

static void *hook_realloc(void *ctx, void *old, size_t n) {
  struct domain_hook *d = ctx;
  t_depth++;
  void *p = d->orig.realloc(d->orig.ctx, old, n);
  t_depth--;
  if (LIKELY(g_active)) {
    append(OP_REALLOC, d->domain, n, (uintptr_t)old, (uintptr_t)p);
    after_call();
  }
  return p;
}

static void hook_free(void *ctx, void *ptr) {
  struct domain_hook *d = ctx;
  t_depth++;
  d->orig.free(d->orig.ctx, ptr);
  t_depth--;
  if (LIKELY(g_active)) {
    append(OP_FREE, d->domain, 0, (uintptr_t)ptr, 0);
    after_call();
  }
}

/* Arena calls made inside a MEM/OBJ call are pymalloc's arenas (new_arena / pymalloc_free); the
   others (3.11+: frame data-stack chunks from _PyObject_VirtualAlloc, Python/pystate.c) are not. */
static void *hook_arena_alloc(void *ctx, size_t n) {
  (void)ctx;
  void *p = g_arena_orig.alloc(g_arena_orig.ctx, n);
  if (LIKELY(g_active)) append(OP_ARENA_ALLOC, t_depth > 0 ? FLAG_NESTED : 0, n, 0, (uintptr_t)p);
  return p;
}

static void hook_arena_free(void *ctx, void *ptr, size_t n) {
  (void)ctx;
  g_arena_orig.free(g_arena_orig.ctx, ptr, n);
  if (LIKELY(g_active)) append(OP_ARENA_FREE, t_depth > 0 ? FLAG_NESTED : 0, n, (uintptr_t)ptr, 0);
}

/* ---------------------------------------------------------------- the GC callback */

static PyObject *g_k_generation, *g_k_collected, *g_k_uncollectable, *g_empty_args;
static char g_gcbuf[65536];
static size_t g_gclen;

static void flush_gc(void) {
  if (g_gclen && g_gc_fd >= 0) write_all(g_gc_fd, g_gcbuf, g_gclen);
  g_gclen = 0;
}

#ifdef CPYMEM_INTERNAL
/* gc_list_size() of Modules/gcmodule.c: the objects linked into one generation's list. Between
   phases _gc_next is a plain pointer; the low bits are masked as the collector's own flags. */
static long long gc_list_length(PyGC_Head *head) {
  long long n = 0;
  for (PyGC_Head *g = (PyGC_Head *)(head->_gc_next & ~(uintptr_t)3); g != head && g != NULL;
       g = (PyGC_Head *)(g->_gc_next & ~(uintptr_t)3))
    n++;
  return n;
}
#endif

#ifdef CPYMEM_INTERNAL
/* GC objects waiting in the type free lists (tuples, lists, dicts, async-generator wrappers,
   contexts; 3.10 also frames). A full collection clears them (_PyGC_ClearAllFreeLists), after which
   the program allocates each again with malloc (+1 on the young count) where it would have reused
   it: a GC model needs this number to say what a full collection at another moment would cost.
   -1 on 3.8 and 3.9, which keep their free lists static in Objects/*.c, out of reach. */
static long long free_list_objects(void) {
#if PY_VERSION_HEX >= 0x030A0000
  PyInterpreterState *interp = _PyRuntime.interpreters.main;
  if (interp == NULL) return -1;
  long long n = 0;
#if PY_VERSION_HEX >= 0x030D0000
#ifdef WITH_FREELISTS
  struct _Py_object_freelists *fl = &interp->object_state.freelists;
  for (int i = 0; i < PyTuple_NFREELISTS; i++) n += fl->tuples.numfree[i];
  n += fl->lists.numfree + fl->dicts.numfree + fl->contexts.numfree + fl->async_gens.numfree + fl->async_gen_asends.numfree;
#endif
#else
#if PY_VERSION_HEX >= 0x030B0000
#if PyTuple_NFREELISTS > 0
  for (int i = 0; i < PyTuple_NFREELISTS; i++) n += interp->tuple.numfree[i];
#endif
#else
#if PyTuple_MAXSAVESIZE > 0
  for (int i = 1; i < PyTuple_MAXSAVESIZE; i++) n += interp->tuple.numfree[i]; /* [0]: the empty tuple, never cleared */
#endif
  n += interp->frame.numfree;
#endif
#if PyList_MAXFREELIST > 0
  n += interp->list.numfree;
#endif
#if PyDict_MAXFREELIST > 0
  n += interp->dict_state.numfree;
#endif
#if _PyAsyncGen_MAXFREELIST > 0
  n += interp->async_gen.value_numfree + interp->async_gen.asend_numfree;
#endif
#if PY_VERSION_HEX < 0x030B0000 || PyContext_MAXFREELIST > 0
  n += interp->context.numfree;
#endif
#endif
  return n;
#else
  return -1;
#endif
}
#endif

static long long dict_int(PyObject *d, PyObject *key) {
  if (!d || !PyDict_Check(d)) return -1;
  PyObject *v = PyDict_GetItem(d, key); /* borrowed; the keys are interned once at attach */
  if (!v || !PyLong_Check(v)) return -1;
  return PyLong_AsLongLong(v);
}

/* gc.callbacks entry (Modules/gcmodule.c invoke_gc_callback: cb(phase, info)). Written in C so that
   a collection adds no Python frames or objects of ours beyond what the GC itself builds. */
static PyObject *gc_callback(PyObject *self, PyObject *args) {
  (void)self;
  PyObject *phase = NULL, *info = NULL;
  if (!PyArg_UnpackTuple(args, "cpymem_gc", 2, 2, &phase, &info)) return NULL;
  if (!g_active || getpid() != g_owner) Py_RETURN_NONE;
  int start = PyUnicode_Check(phase) && PyUnicode_CompareWithASCIIString(phase, "start") == 0;
  long long gen = dict_int(info, g_k_generation);
  long long collected = dict_int(info, g_k_collected);
  long long uncollectable = dict_int(info, g_k_uncollectable);
  uint64_t record = g_records;
  append(start ? OP_GC_START : OP_GC_STOP, 0, (uint64_t)gen, (uint64_t)collected, (uint64_t)uncollectable);
  g_gc_events++;
  char counts[96] = "null", state[512] = "";
#ifdef CPYMEM_INTERNAL
  struct _gc_runtime_state *gs = gc_state();
  if (gs) {
    snprintf(counts, sizeof counts, "[%d,%d,%d]", gs->generations[0].count, gs->generations[1].count,
             gs->generations[2].count);
    /* What the collector decides with besides the counts (collect_generations / gc_select_generation:
       the long-lived rule of full collections) and the tracked objects in each list, as DEBUG_STATS
       counts them (gc_list_size); "start" runs before the generations are merged, "stop" after the
       survivors moved on. */
    /* The oldest generation and the permanent one are walked only around collections of generation
       1 or 2: they hold most of the heap, a walk of them at every young collection made a program
       several times slower under capture (×12 instead of ×1.5 on the bench workload), and the oldest
       generation gains objects only in those collections (between them it loses the ones freed). */
    char old[64] = "null],\"permanent\":null";
    if (gen >= 1)
      snprintf(old, sizeof old, "%lld],\"permanent\":%lld", gc_list_length(&gs->generations[2].head),
               gc_list_length(&gs->permanent_generation.head));
    snprintf(state, sizeof state,
             ",\"thresholds\":[%d,%d,%d],\"enabled\":%s,\"long_lived_total\":%lld,\"long_lived_pending\":%lld,"
             "\"objects\":[%lld,%lld,%s,\"free_lists\":%lld",
             gs->generations[0].threshold, gs->generations[1].threshold, gs->generations[2].threshold,
             gs->enabled ? "true" : "false", (long long)gs->long_lived_total, (long long)gs->long_lived_pending,
             gc_list_length(&gs->generations[0].head), gc_list_length(&gs->generations[1].head), old,
             free_list_objects());
  }
#endif
  if (g_gclen + 1024 > sizeof g_gcbuf) flush_gc();
  int n = snprintf(g_gcbuf + g_gclen, sizeof g_gcbuf - g_gclen,
                   "{\"phase\":\"%s\",\"generation\":%lld,\"collected\":%lld,\"uncollectable\":%lld,"
                   "\"record\":%llu,\"calls\":%llu,\"counts\":%s%s,\"thread\":%u,\"t_ns\":%llu}\n",
                   start ? "start" : "stop", gen, collected, uncollectable, (unsigned long long)record,
                   (unsigned long long)g_calls, counts, state, (unsigned)thread_id(), (unsigned long long)(now_ns() - g_t0));
  if (n > 0) g_gclen += (size_t)n;
  Py_RETURN_NONE;
}

static PyMethodDef g_gc_def = {"cpymem_gc_callback", gc_callback, METH_VARARGS, "cpymem capture: log a GC phase"};

/* The gc module's switches (gc.disable/enable/freeze/unfreeze/set_threshold/collect) change what the
   collector does next without any record of their own: each is wrapped by a C function that appends
   a note ("gc.disable()", "gc.set_threshold(100, 5, 5)", "gc.collect(2)") to the event stream and
   then calls the original, so a GC model knows the switch and its exact position. The note is
   written before the call: the call's own effects (a collection, reset counts) follow it. */
EXPORT long long cpymem_note(const char *text);

static long long arg_int(PyObject *args, Py_ssize_t i, PyObject *kwargs, PyObject *key, long long dflt, int *bad) {
  PyObject *v = NULL;
  if (args && PyTuple_Check(args) && i < PyTuple_GET_SIZE(args)) v = PyTuple_GET_ITEM(args, i);
  else if (key && kwargs && PyDict_Check(kwargs)) v = PyDict_GetItem(kwargs, key); /* borrowed */
  if (!v) return dflt;
  if (!PyLong_Check(v)) { *bad = 1; return dflt; }
  long long x = PyLong_AsLongLong(v);
  if (x == -1 && PyErr_Occurred()) { PyErr_Clear(); *bad = 1; }
  return x;
}

static PyObject *gc_wrapped(PyObject *orig, PyObject *args, PyObject *kwargs, const char *text) {
  if (g_active && getpid() == g_owner) cpymem_note(text);
  return PyObject_Call(orig, args ? args : g_empty_args, kwargs);
}

#define GC_SWITCH(NAME)                                                                 \
  static PyObject *gc_##NAME(PyObject *orig, PyObject *args, PyObject *kwargs) {       \
    return gc_wrapped(orig, args, kwargs, "gc." #NAME "()");                           \
  }
GC_SWITCH(enable)
GC_SWITCH(disable)
GC_SWITCH(freeze)
GC_SWITCH(unfreeze)

static PyObject *gc_collect(PyObject *orig, PyObject *args, PyObject *kwargs) {
  int bad = 0;
  long long g = arg_int(args, 0, kwargs, g_k_generation, 2, &bad);
  char text[64];
  if (bad) snprintf(text, sizeof text, "gc.collect(?)");
  else snprintf(text, sizeof text, "gc.collect(%lld)", g);
  return gc_wrapped(orig, args, kwargs, text);
}

static PyObject *gc_set_threshold(PyObject *orig, PyObject *args, PyObject *kwargs) {
  int bad = 0;
  Py_ssize_t n = args && PyTuple_Check(args) ? PyTuple_GET_SIZE(args) : 0;
  long long t[3];
  for (int i = 0; i < 3; i++) t[i] = arg_int(args, i, NULL, NULL, -1, &bad);
  char text[128];
  if (bad || n < 1 || n > 3 || (kwargs && PyDict_Check(kwargs) && PyDict_GET_SIZE(kwargs) > 0)) snprintf(text, sizeof text, "gc.set_threshold(?)");
  else if (n == 1) snprintf(text, sizeof text, "gc.set_threshold(%lld)", t[0]);
  else if (n == 2) snprintf(text, sizeof text, "gc.set_threshold(%lld, %lld)", t[0], t[1]);
  else snprintf(text, sizeof text, "gc.set_threshold(%lld, %lld, %lld)", t[0], t[1], t[2]);
  return gc_wrapped(orig, args, kwargs, text);
}

#define GC_DEF(NAME) {#NAME, (PyCFunction)(void (*)(void))gc_##NAME, METH_VARARGS | METH_KEYWORDS, NULL}
static PyMethodDef g_gc_switches[] = {GC_DEF(enable), GC_DEF(disable), GC_DEF(freeze), GC_DEF(unfreeze),
                                      GC_DEF(set_threshold), GC_DEF(collect)};

/* Replace each gc.NAME by its wrapper, the original bound as the wrapper's self (keeps its doc). */
static void wrap_gc_switches(PyObject *gc) {
  for (size_t i = 0; i < sizeof g_gc_switches / sizeof g_gc_switches[0]; i++) {
    PyMethodDef *def = &g_gc_switches[i];
    PyObject *orig = PyObject_GetAttrString(gc, def->ml_name);
    if (!orig) { PyErr_Clear(); continue; }
    if (PyCFunction_Check(orig) && PyCFunction_GET_FUNCTION(orig) == def->ml_meth) { Py_DECREF(orig); continue; }
    PyObject *doc = PyObject_GetAttrString(orig, "__doc__");
    if (doc && PyUnicode_Check(doc)) def->ml_doc = PyUnicode_AsUTF8(doc); /* the original's doc lives as long as it */
    Py_XDECREF(doc);
    PyErr_Clear();
    PyObject *w = PyCFunction_NewEx(def, orig, NULL);
    if (w) PyObject_SetAttrString(gc, def->ml_name, w);
    Py_XDECREF(w);
    Py_DECREF(orig);
    PyErr_Clear();
  }
}

/* ---------------------------------------------------------------- the helper's entry points */

/* Called once by cpymem_capture (through ctypes.PyDLL, so with the GIL) after start-up: installs
   the GC callback and reports whether this process records and whether the hooks survived
   pre-initialisation. Returns bit 0 = recording here, bit 1 = hooks in place. */
EXPORT int cpymem_attach(void) {
  if (!g_active || getpid() != g_owner) return 0;
  int installed = hooks_installed();
  if (g_hooks_at_attach < 0) g_hooks_at_attach = installed;
  if (g_attach_record < 0) g_attach_record = (long long)g_records;
  if (!g_attached) {
    g_attached = 1;
    g_k_generation = PyUnicode_InternFromString("generation");
    g_k_collected = PyUnicode_InternFromString("collected");
    g_k_uncollectable = PyUnicode_InternFromString("uncollectable");
    g_empty_args = PyTuple_New(0);
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *callbacks = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
    PyObject *cb = PyCFunction_New(&g_gc_def, NULL);
    if (callbacks && cb && PyList_Check(callbacks)) PyList_Append(callbacks, cb);
    if (gc) wrap_gc_switches(gc);
    Py_XDECREF(cb);
    Py_XDECREF(callbacks);
    Py_XDECREF(gc);
    if (PyErr_Occurred()) PyErr_Clear();
  }
  return 1 | (installed ? 2 : 0);
}

/* A marker requested from Python: reason 2 = cpymem_capture.stats(), 3 = the helper's atexit
   callback. py_blocks is sys.getallocatedblocks() as the helper saw it just before the call. */
EXPORT long long cpymem_marker(int reason, const char *label, long long py_blocks) {
  if (reason != R_SCRIPT && reason != R_ATEXIT) reason = R_SCRIPT;
  return take_marker(reason, label, py_blocks);
}

EXPORT long long cpymem_note(const char *text) {
  if (!g_active || getpid() != g_owner) return -1;
  unsigned index = g_notes++;
  append(OP_NOTE, 0, 0, index, 0);
  char j[1200], line[1300];
  json_string(j, sizeof j, text ? text : "");
  int n = snprintf(line, sizeof line, "{\"index\":%u,\"record\":%llu,\"text\":%s}\n", index,
                   (unsigned long long)(g_records - 1), j);
  if (n > 0 && g_nt_fd >= 0) write_all(g_nt_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  return index;
}

EXPORT int cpymem_hooks_installed(void) { return g_active ? hooks_installed() : 0; }

/* ---------------------------------------------------------------- start and end */

static void write_status(void) {
  char path[PATH_MAX + 32], line[2048];
  snprintf(path, sizeof path, "%s/status.json", g_dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  int installed = hooks_installed();
  const char *an = allocator_name(installed);
  char jalloc[96];
  json_string(jalloc, sizeof jalloc, an ? an : "");
  int n = snprintf(line, sizeof line,
                   "{\"records\":%llu,\"calls\":%llu,\"markers\":%u,\"notes\":%u,\"gc_events\":%llu,\"threads\":%d,"
                   "\"helper_attached\":%s,\"attach_record\":%lld,\"hooks_at_attach\":%s,\"hooks_at_end\":%s,\"hooks_lost\":%s,"
                   "\"allocator_at_end\":%s,\"exit_path\":\"%s\",\"finalized\":%s,\"t_ns\":%llu}\n",
                   (unsigned long long)g_records, (unsigned long long)g_calls, g_markers, g_notes,
                   (unsigned long long)g_gc_events, g_next_tid, g_attached ? "true" : "false", g_attach_record,
                   g_hooks_at_attach < 0 ? "null" : g_hooks_at_attach ? "true" : "false", installed ? "true" : "false",
                   g_hooks_lost ? "true" : "false", an ? jalloc : "null", g_exit_path == 2 ? "_exit" : "exit",
                   Py_IsInitialized() ? "false" : "true", (unsigned long long)(now_ns() - g_t0));
  if (n > 0) write_all(fd, line, (size_t)n);
  close(fd);
}

static void finish(void) {
  if (!g_active || getpid() != g_owner) return;
  flush_events();
  flush_gc();
  write_status();
  g_active = 0;
  close(g_ev_fd);
  g_ev_fd = -1;
}

/* After Py_FinalizeEx (main has returned): on versions where params.ts says it is safe (≤3.11),
   one more real dump, which shows the arenas released during finalisation. On 3.12+ the allocator
   state belongs to the interpreter, which is gone; the helper's atexit marker is the last dump. */
__attribute__((destructor)) static void recorder_fini(void) {
  if (!g_active || getpid() != g_owner) return;
  if (g_exit_path == 0) g_exit_path = 1;
  if (g_exit_after_finalize && g_exit_path == 1 && !Py_IsInitialized()) take_marker(R_EXIT, "exit", -1);
  finish();
}

/* os._exit() skips atexit handlers and destructors: flush on the way out. exit() reaches the real
   _exit through glibc's internal alias, not through here. */
EXPORT void _exit(int status) {
  static void (*real)(int);
  if (g_active && getpid() == g_owner) {
    g_exit_path = 2;
    finish();
  }
  if (!real) real = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
  real(status);
  __builtin_unreachable();
}

/* A fork child inherits the hooks, the buffer and the file descriptors: it stops recording and
   drops the unflushed records, so the parent's log is never written twice or interleaved. */
static void atfork_child(void) {
  g_active = 0;
  g_len = 0;
  g_gclen = 0;
}

static uint64_t parse_u64(const char *s, const char **end) {
  uint64_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  *end = s;
  return v;
}

static int open_log(const char *name) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  /* O_EXCL: a second recorder that somehow got the same directory must not truncate this one's log. */
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
}

static void unset_config(void) {
  const char *orig = getenv("CPYMEM_ORIG_LD_PRELOAD");
  if (orig && *orig) setenv("LD_PRELOAD", orig, 1);
  else unsetenv("LD_PRELOAD");
  unsetenv("CPYMEM_ORIG_LD_PRELOAD");
  unsetenv("CPYMEM_CAPTURE_DIR");
  unsetenv("CPYMEM_STATS_AT");
  unsetenv("CPYMEM_STATS_EVERY");
  unsetenv("CPYMEM_EXIT_DUMP");
}

__attribute__((constructor)) static void recorder_init(void) {
  const char *dir = getenv("CPYMEM_CAPTURE_DIR");
  if (!dir || !*dir || strlen(dir) >= sizeof g_dir) { unset_config(); return; }
  snprintf(g_dir, sizeof g_dir, "%s", dir);
  const char *at = getenv("CPYMEM_STATS_AT");
  if (at && *at) {
    size_t cap = 1;
    for (const char *p = at; *p; p++) cap += *p == ',';
    g_at = malloc(cap * sizeof *g_at);
    for (const char *p = at; g_at && *p;) {
      const char *e;
      uint64_t v = parse_u64(p, &e);
      if (e != p && v > 0) g_at[g_at_n++] = v;
      p = *e ? e + 1 : e;
    }
  }
  const char *every = getenv("CPYMEM_STATS_EVERY");
  if (every && *every) {
    const char *e;
    g_every = parse_u64(every, &e);
  }
  const char *ed = getenv("CPYMEM_EXIT_DUMP");
  g_exit_after_finalize = ed && strcmp(ed, "after-finalize") == 0;
  unset_config();

  g_ev_fd = open_log("events.bin");
  if (g_ev_fd < 0) return;
  g_mk_fd = open_log("markers.jsonl");
  g_gc_fd = open_log("gc.jsonl");
  g_nt_fd = open_log("notes.jsonl");
  g_cap = (size_t)1 << 22;
  g_buf = malloc(g_cap);
  if (!g_buf) { close(g_ev_fd); g_ev_fd = -1; return; }

  p_get_allocated_blocks = (Py_ssize_t(*)(void))dlsym(RTLD_DEFAULT, "_Py_GetAllocatedBlocks");
  p_tstate_unchecked = (PyThreadState * (*)(void)) dlsym(RTLD_DEFAULT, "PyThreadState_GetUnchecked");
  if (!p_tstate_unchecked) p_tstate_unchecked = (PyThreadState * (*)(void)) dlsym(RTLD_DEFAULT, "_PyThreadState_UncheckedGet");
  p_allocator_name = (const char *(*)(void))dlsym(RTLD_DEFAULT, "_PyMem_GetCurrentAllocatorName");
  p_debug_malloc_stats = (int (*)(FILE *))dlsym(RTLD_DEFAULT, "_PyObject_DebugMallocStats");

  unsigned features = 0;
#ifdef CPYMEM_INTERNAL
  features |= FEAT_INTERNAL | FEAT_YOUNG | FEAT_GC_STATE;
#if PY_VERSION_HEX >= 0x030C0000
  features |= FEAT_ARENA_WALK;
#endif
#endif
  unsigned char h[HEADER_SIZE];
  memset(h, 0, sizeof h);
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  g_t0 = now_ns();
  uint32_t u32;
  uint64_t u64;
  memcpy(h, "CPYMEMEV", 8);
  u32 = FORMAT_VERSION; memcpy(h + 8, &u32, 4);
  u32 = HEADER_SIZE; memcpy(h + 12, &u32, 4);
  u32 = sizeof(struct record); memcpy(h + 16, &u32, 4);
  u32 = PY_VERSION_HEX; memcpy(h + 20, &u32, 4);
  u32 = (uint32_t)getpid(); memcpy(h + 24, &u32, 4);
  u32 = features; memcpy(h + 28, &u32, 4);
  u64 = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec; memcpy(h + 32, &u64, 8);
  u64 = g_t0; memcpy(h + 40, &u64, 8);
  u32 = (uint32_t)sizeof(void *); memcpy(h + 48, &u32, 4);
  write_all(g_ev_fd, h, sizeof h);

  t_tid = 0;
  g_owner = getpid();
  schedule_next_count_marker();

  PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &g_mem.orig);
  PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &g_obj.orig);
  PyObject_GetArenaAllocator(&g_arena_orig);
  struct domain_hook *ds[2] = {&g_mem, &g_obj};
  for (int i = 0; i < 2; i++) {
    ds[i]->hook.ctx = ds[i];
    ds[i]->hook.malloc = hook_malloc;
    ds[i]->hook.calloc = hook_calloc;
    ds[i]->hook.realloc = hook_realloc;
    ds[i]->hook.free = hook_free;
  }
  g_arena_hook.ctx = NULL;
  g_arena_hook.alloc = hook_arena_alloc;
  g_arena_hook.free = hook_arena_free;
  pthread_atfork(NULL, NULL, atfork_child);
  g_active = 1;
  PyObject_SetArenaAllocator(&g_arena_hook);
  PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &g_mem.hook);
  PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &g_obj.hook);
}
