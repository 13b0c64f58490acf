#define _GNU_SOURCE
#include "CTickBus.h"
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <numa.h>
#include <liburing.h>

int tb_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

int tb_current_cpu(void) { return sched_getcpu(); }

int tb_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET) == 0 ? 0 : errno; }

int tb_numa_available(void) { return numa_available() >= 0 ? 1 : 0; }

int tb_numa_bind(int node) {
    if (numa_available() < 0) return ENOSYS;
    if (node < 0 || node > numa_max_node()) return EINVAL;
    if (numa_run_on_node(node) != 0) return errno ? errno : EINVAL;
    struct bitmask *mask = numa_allocate_nodemask();
    numa_bitmask_setbit(mask, (unsigned)node);
    numa_set_membind(mask);
    numa_free_nodemask(mask);
    numa_set_preferred(node);
    return 0;
}

int tb_numa_node_of_cpu(int cpu) { return numa_available() < 0 ? -1 : numa_node_of_cpu(cpu); }
int tb_numa_preferred(void) { return numa_available() < 0 ? -1 : numa_preferred(); }
int tb_numa_max_node(void) { return numa_available() < 0 ? -1 : numa_max_node(); }

int tb_pid_alive(int pid) {
    if (pid <= 0) return 0;
    if (kill(pid, 0) == 0) return 1;
    return errno == EPERM ? 1 : 0;
}

struct tb_uring { struct io_uring ring; };

tb_uring *tb_uring_create(unsigned entries, int *err) {
    tb_uring *r = calloc(1, sizeof *r);
    if (!r) { *err = ENOMEM; return NULL; }
    int rc = io_uring_queue_init(entries, &r->ring, 0);
    if (rc < 0) { *err = -rc; free(r); return NULL; }
    return r;
}

void tb_uring_destroy(tb_uring *r) {
    if (!r) return;
    io_uring_queue_exit(&r->ring);
    free(r);
}

int tb_uring_register_buffers(tb_uring *r, void *const *bases, const size_t *lengths, unsigned count) {
    struct iovec *iov = calloc(count, sizeof *iov);
    if (!iov) return -ENOMEM;
    for (unsigned i = 0; i < count; i++) { iov[i].iov_base = bases[i]; iov[i].iov_len = lengths[i]; }
    int rc = io_uring_register_buffers(&r->ring, iov, count);
    free(iov);
    return rc;
}

int tb_uring_queue_write(tb_uring *r, int fd, const void *buf, unsigned len, uint64_t offset, int buf_index, uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    if (buf_index >= 0) io_uring_prep_write_fixed(sqe, fd, buf, len, offset, buf_index);
    else io_uring_prep_write(sqe, fd, buf, len, offset);
    io_uring_sqe_set_data64(sqe, user_data);
    return 0;
}

int tb_uring_queue_fsync(tb_uring *r, int fd, uint64_t user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, user_data);
    return 0;
}

int tb_uring_submit(tb_uring *r) { return io_uring_submit(&r->ring); }

int tb_uring_reap(tb_uring *r, int wait, uint64_t *user_data, int *res) {
    struct io_uring_cqe *cqe = NULL;
    int rc = wait ? io_uring_wait_cqe(&r->ring, &cqe) : io_uring_peek_cqe(&r->ring, &cqe);
    if (rc == -EAGAIN || (rc == 0 && cqe == NULL)) return 0;
    if (rc < 0) return rc;
    *user_data = io_uring_cqe_get_data64(cqe);
    *res = cqe->res;
    io_uring_cqe_seen(&r->ring, cqe);
    return 1;
}

static volatile sig_atomic_t tb_stop_signal = 0;
static void tb_on_stop(int sig) { tb_stop_signal = sig; }

void tb_install_stop_signals(void) {
    // A parent may have left these blocked (Foundation's Process does): unblock them, or a
    // SIGINT/SIGTERM would never reach the handler and the process would not seal its output.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tb_on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int tb_stop_requested(void) { return tb_stop_signal; }

// ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) for journal blocks.
// SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8 table otherwise.
static uint32_t tb_crc32c_table[8][256];
static int tb_crc32c_mode = 0;  // 0 unknown, 1 hardware, 2 table

static void tb_crc32c_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        tb_crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = tb_crc32c_table[0][i];
        for (int t = 1; t < 8; t++) { c = tb_crc32c_table[0][c & 0xFF] ^ (c >> 8); tb_crc32c_table[t][i] = c; }
    }
}

static uint32_t tb_crc32c_sw(uint32_t crc, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { crc = tb_crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8); n--; }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = tb_crc32c_table[7][w & 0xFF] ^ tb_crc32c_table[6][(w >> 8) & 0xFF] ^ tb_crc32c_table[5][(w >> 16) & 0xFF]
            ^ tb_crc32c_table[4][(w >> 24) & 0xFF] ^ tb_crc32c_table[3][(w >> 32) & 0xFF] ^ tb_crc32c_table[2][(w >> 40) & 0xFF]
            ^ tb_crc32c_table[1][(w >> 48) & 0xFF] ^ tb_crc32c_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = tb_crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t tb_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n && ((uintptr_t)p & 7)) { c = __builtin_ia32_crc32qi((uint32_t)c, *p++); n--; }
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c = __builtin_ia32_crc32di(c, w); p += 8; n -= 8; }
    while (n--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

uint32_t tb_crc32c_update(uint32_t crc, const void *data, size_t length) {
    int mode = __atomic_load_n(&tb_crc32c_mode, __ATOMIC_ACQUIRE);
    if (mode == 0) {
        tb_crc32c_init();
#if defined(__x86_64__)
        mode = __builtin_cpu_supports("sse4.2") ? 1 : 2;
#else
        mode = 2;
#endif
        __atomic_store_n(&tb_crc32c_mode, mode, __ATOMIC_RELEASE);
    }
    const uint8_t *p = (const uint8_t *)data;
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (mode == 1) return ~tb_crc32c_hw(c, p, length);
#endif
    return ~tb_crc32c_sw(c, p, length);
}

uint32_t tb_crc32c_software(uint32_t crc, const void *data, size_t length) {
    if (__atomic_load_n(&tb_crc32c_mode, __ATOMIC_ACQUIRE) == 0) (void)tb_crc32c_update(0, "", 0);
    return ~tb_crc32c_sw(~crc, (const uint8_t *)data, length);
}
