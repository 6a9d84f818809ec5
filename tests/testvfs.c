/*
 * testvfs.c: "sqlpool-test", a shim VFS over the default one that injects faults on demand.
 *
 * Every VFS and file method forwards to the real default VFS. Faults apply only to main
 * database files: a number of opens can be made to fail with a chosen code, and reads can be
 * made to fail; and the nth read, write or sync of any file can be made to fail. The fault
 * state is atomic, because tests drive pools from several threads.
 */
#include "testvfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Our file object; the real VFS's file object follows it, suitably aligned. */
typedef struct shim_file {
    sqlite3_file base;
    sqlite3_file *real;
    int main_db;
} shim_file;

#define SHIM_HEADER                                                                                \
    ((sizeof(shim_file) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))

static sqlite3_vfs shim_vfs;
static sqlite3_vfs *real_vfs;
/* One method table per io_methods version, so the shim reports the real file's iVersion. */
static sqlite3_io_methods shim_io[3];
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static atomic_int fail_opens_left;
static atomic_int fail_opens_rc;
static atomic_int fail_reads_on;
static atomic_int open_attempts;
static atomic_long nth_left[3]; /* calls left before the failing one, per kind; 0: none */

/* Count one call of this kind; 1 when it is the one to fail. */
static int nth_fails(int kind) {
    long left = atomic_load(&nth_left[kind]);
    while (left > 0)
        if (atomic_compare_exchange_weak(&nth_left[kind], &left, left - 1)) return left == 1;
    return 0;
}

static sqlite3_file *real_of(sqlite3_file *f) {
    return ((shim_file *)f)->real;
}

/* A main database file while reads are failing. */
static int failing(sqlite3_file *f) {
    return ((shim_file *)f)->main_db && atomic_load(&fail_reads_on);
}

/* Take one of the pending open failures, if any. */
static int take_open_failure(void) {
    int left = atomic_load(&fail_opens_left);
    while (left > 0)
        if (atomic_compare_exchange_weak(&fail_opens_left, &left, left - 1))
            return atomic_load(&fail_opens_rc);
    return SQLITE_OK;
}

/* ---- io methods ---- */

static int shim_close(sqlite3_file *f) {
    sqlite3_file *real = real_of(f);
    int rc = real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
    f->pMethods = NULL;
    return rc;
}

static int shim_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off) {
    if (failing(f) || nth_fails(TESTVFS_READ)) return SQLITE_IOERR_READ;
    return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}

static int shim_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off) {
    if (nth_fails(TESTVFS_WRITE)) return SQLITE_IOERR_WRITE;
    return real_of(f)->pMethods->xWrite(real_of(f), buf, amt, off);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size) {
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int shim_sync(sqlite3_file *f, int flags) {
    if (nth_fails(TESTVFS_SYNC)) return SQLITE_IOERR_FSYNC;
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int shim_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int shim_lock(sqlite3_file *f, int level) {
    if (failing(f)) return SQLITE_IOERR_LOCK;
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int shim_unlock(sqlite3_file *f, int level) {
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int shim_check_reserved_lock(sqlite3_file *f, int *out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int shim_file_control(sqlite3_file *f, int op, void *arg) {
    int rc = real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
    /* Name the shim in the VFS chain, as other shims do. */
    if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK) {
        char *inner = *(char **)arg;
        *(char **)arg = sqlite3_mprintf("%s/%z", shim_vfs.zName, inner);
    }
    return rc;
}

static int shim_sector_size(sqlite3_file *f) {
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int shim_device_characteristics(sqlite3_file *f) {
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int shim_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp) {
    /* A connection that maps the wal-index afresh fails too (a warm one only takes locks). */
    if (failing(f)) {
        *pp = NULL;
        return SQLITE_IOERR_SHMMAP;
    }
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, pp);
}

static int shim_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    /* A WAL connection keeps its SHARED file lock, its wal-index mapping and its page cache
     * between transactions, so starting a read transaction touches nothing but these locks:
     * fail taking them (never releasing them) to make such a connection notice. */
    if ((flags & SQLITE_SHM_LOCK) && failing(f)) return SQLITE_IOERR_SHMLOCK;
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void shim_shm_barrier(sqlite3_file *f) {
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int shim_shm_unmap(sqlite3_file *f, int delete_flag) {
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
    if (failing(f)) {
        *pp = NULL; /* no mapping: SQLite falls back to xRead, which fails */
        return SQLITE_OK;
    }
    return real_of(f)->pMethods->xFetch(real_of(f), off, amt, pp);
}

static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods shim_io_template = {
    3,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved_lock,
    shim_file_control,
    shim_sector_size,
    shim_device_characteristics,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    shim_fetch,
    shim_unfetch,
};

/* ---- vfs methods ---- */

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                     int *out_flags) {
    shim_file *sf = (shim_file *)f;
    int version, rc;
    (void)vfs;

    memset(sf, 0, sizeof *sf);
    sf->real = (sqlite3_file *)((char *)f + SHIM_HEADER);
    sf->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    if (sf->main_db) {
        atomic_fetch_add(&open_attempts, 1);
        rc = take_open_failure();
        if (rc != SQLITE_OK) return rc; /* pMethods stays NULL: SQLite will not call xClose */
    }
    rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out_flags);
    if (sf->real->pMethods != NULL) {
        version = sf->real->pMethods->iVersion;
        if (version < 1) version = 1;
        if (version > 3) version = 3;
        f->pMethods = &shim_io[version - 1];
    }
    return rc;
}

static int shim_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int shim_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *shim_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void shim_dl_error(sqlite3_vfs *vfs, int n, char *msg) {
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, msg);
}

static void (*shim_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void shim_dl_close(sqlite3_vfs *vfs, void *h) {
    (void)vfs;
    real_vfs->xDlClose(real_vfs, h);
}

static int shim_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int shim_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int shim_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int shim_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int shim_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int shim_set_system_call(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr fn) {
    (void)vfs;
    return real_vfs->xSetSystemCall(real_vfs, name, fn);
}

static sqlite3_syscall_ptr shim_get_system_call(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *shim_next_system_call(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xNextSystemCall(real_vfs, name);
}

static void register_shim(void) {
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL) abort();
    for (int i = 0; i < 3; i++) {
        shim_io[i] = shim_io_template;
        shim_io[i].iVersion = i + 1;
    }
    shim_vfs.iVersion = real_vfs->iVersion < 3 ? real_vfs->iVersion : 3;
    shim_vfs.szOsFile = (int)SHIM_HEADER + real_vfs->szOsFile;
    shim_vfs.mxPathname = real_vfs->mxPathname;
    shim_vfs.zName = "sqlpool-test";
    shim_vfs.pAppData = real_vfs;
    shim_vfs.xOpen = shim_open;
    shim_vfs.xDelete = shim_delete;
    shim_vfs.xAccess = shim_access;
    shim_vfs.xFullPathname = shim_full_pathname;
    shim_vfs.xDlOpen = real_vfs->xDlOpen ? shim_dl_open : NULL;
    shim_vfs.xDlError = real_vfs->xDlError ? shim_dl_error : NULL;
    shim_vfs.xDlSym = real_vfs->xDlSym ? shim_dl_sym : NULL;
    shim_vfs.xDlClose = real_vfs->xDlClose ? shim_dl_close : NULL;
    shim_vfs.xRandomness = shim_randomness;
    shim_vfs.xSleep = shim_sleep;
    shim_vfs.xCurrentTime = shim_current_time;
    shim_vfs.xGetLastError = shim_get_last_error;
    if (shim_vfs.iVersion >= 2)
        shim_vfs.xCurrentTimeInt64 = real_vfs->xCurrentTimeInt64 ? shim_current_time_int64 : NULL;
    if (shim_vfs.iVersion >= 3) {
        shim_vfs.xSetSystemCall = real_vfs->xSetSystemCall ? shim_set_system_call : NULL;
        shim_vfs.xGetSystemCall = real_vfs->xGetSystemCall ? shim_get_system_call : NULL;
        shim_vfs.xNextSystemCall = real_vfs->xNextSystemCall ? shim_next_system_call : NULL;
    }
    if (sqlite3_vfs_register(&shim_vfs, 0) != SQLITE_OK) abort();
}

void testvfs_register(void) {
    if (pthread_once(&register_once, register_shim) != 0) abort();
}

void testvfs_register_default(void) {
    testvfs_register();
    if (sqlite3_vfs_register(&shim_vfs, 1) != SQLITE_OK) abort();
}

void testvfs_fail_nth(int kind, long n) {
    atomic_store(&nth_left[kind], n > 0 ? n : 0);
}

void testvfs_fail_opens(int n, int rc) {
    atomic_store(&fail_opens_rc, rc);
    atomic_store(&fail_opens_left, n);
}

void testvfs_fail_reads(int on) {
    atomic_store(&fail_reads_on, on != 0);
}

int testvfs_open_attempts(void) {
    return atomic_load(&open_attempts);
}

void testvfs_reset(void) {
    atomic_store(&fail_opens_left, 0);
    atomic_store(&fail_opens_rc, SQLITE_OK);
    atomic_store(&fail_reads_on, 0);
    atomic_store(&open_attempts, 0);
    for (int k = 0; k < 3; k++)
        atomic_store(&nth_left[k], 0);
}
