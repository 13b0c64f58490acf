#define _GNU_SOURCE
#include "CTickBus.h"
#include <errno.h>
#include <sched.h>
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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tb_on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int tb_stop_requested(void) { return tb_stop_signal; }
