// CTickBus: the one place TickBus touches C. Atomics on shared memory (Swift's own atomics
// cannot live at an address inside an mmap'd file), CPU and NUMA placement, io_uring, and a
// minimal C ring used as the benchmark baseline. Everything here is small on purpose.
#ifndef CTICKBUS_H
#define CTICKBUS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

// ---- Atomics on raw shared memory. Static inline so the optimiser inlines them into Swift.
static inline uint64_t tb_load_acquire_u64(const void *p) { return __atomic_load_n((const uint64_t *)p, __ATOMIC_ACQUIRE); }
static inline uint64_t tb_load_relaxed_u64(const void *p) { return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); }
static inline void tb_store_release_u64(void *p, uint64_t v) { __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELEASE); }
static inline void tb_store_relaxed_u64(void *p, uint64_t v) { __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); }
static inline uint64_t tb_fetch_add_relaxed_u64(void *p, uint64_t v) { return __atomic_fetch_add((uint64_t *)p, v, __ATOMIC_RELAXED); }
static inline uint32_t tb_load_acquire_u32(const void *p) { return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); }
static inline void tb_store_release_u32(void *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }
static inline bool tb_cas_u32(void *p, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n((uint32_t *)p, &expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
static inline void tb_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void tb_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void tb_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Monotonic nanoseconds (CLOCK_MONOTONIC, one clock for every process on the machine; vDSO, no syscall).
static inline uint64_t tb_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
/// Wall-clock nanoseconds since the epoch (CLOCK_REALTIME). Never read by features or models.
static inline uint64_t tb_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// ---- Placement.
/// Pins the calling thread to one CPU with sched_setaffinity. Returns 0 or an errno.
int tb_pin_to_cpu(int cpu);
/// The CPU the calling thread runs on now (sched_getcpu), or -1.
int tb_current_cpu(void);
/// Moves the calling thread into the network namespace of `fd` (an open /run/netns/NAME) with
/// setns(CLONE_NEWNET): sockets it creates afterwards live there (`bench republish --*-netns`).
/// Returns 0 or an errno.
int tb_enter_network_namespace(int fd);
/// 1 when libnuma reports NUMA support on this machine.
int tb_numa_available(void);
/// Runs the calling thread on a NUMA node and binds its memory there (libnuma). 0 or an errno.
int tb_numa_bind(int node);
/// The NUMA node of a CPU (libnuma), or -1.
int tb_numa_node_of_cpu(int cpu);
/// The NUMA node the calling thread's memory is preferred on (libnuma), or -1.
int tb_numa_preferred(void);
/// Highest NUMA node number (libnuma), or -1 without NUMA.
int tb_numa_max_node(void);

// ---- Processes.
/// 1 if a process with this pid exists (kill(pid, 0) succeeds or fails with EPERM).
int tb_pid_alive(int pid);

/// Installs SIGINT and SIGTERM handlers that only set a flag (async-signal-safe).
void tb_install_stop_signals(void);
/// The signal that asked us to stop, or 0.
int tb_stop_requested(void);

// ---- io_uring (liburing). An opaque ring owned by the Journal writer.
typedef struct tb_uring tb_uring;
/// Creates a ring with `entries` submission entries. Returns NULL and sets *err on failure.
tb_uring *tb_uring_create(unsigned entries, int *err);
void tb_uring_destroy(tb_uring *r);
/// Registers buffers for fixed writes. 0 or -errno.
int tb_uring_register_buffers(tb_uring *r, void *const *bases, const size_t *lengths, unsigned count);
/// Queues a write (fixed-buffer when buf_index >= 0). 0, or -EBUSY when the submission queue is full.
int tb_uring_queue_write(tb_uring *r, int fd, const void *buf, unsigned len, uint64_t offset, int buf_index, uint64_t user_data);
/// Queues an fdatasync. 0 or -EBUSY.
int tb_uring_queue_fsync(tb_uring *r, int fd, uint64_t user_data);
/// Submits queued entries. Number submitted or -errno.
int tb_uring_submit(tb_uring *r);
/// Reaps one completion; waits when `wait` is non-zero. 1 with *user_data and *res set, 0 if none, -errno on error.
int tb_uring_reap(tb_uring *r, int wait, uint64_t *user_data, int *res);

// ---- CRC32C (Castagnoli) for journal blocks.
/// Continues a CRC32C: pass 0 to start, the previous result to continue. SSE4.2 when present.
uint32_t tb_crc32c_update(uint32_t crc, const void *data, size_t length);
/// The same CRC through the slicing-by-8 table only (to test the two paths against each other).
uint32_t tb_crc32c_software(uint32_t crc, const void *data, size_t length);

// ---- Baseline ring for `tickbus bench ring`: what a good engineer writes as a minimal C SPSC
// ring of 64-byte messages (a sequence word and 7 payload words). Index-based, not per-slot
// sequence words: the producer publishes its cursor with a release store after each message and
// keeps a cached limit (reader position + capacity), re-reading the reader's position only when it
// reaches that limit; the reader keeps a cached cursor, re-reading the producer's only when it has
// consumed everything it saw, and publishes its position every TB_C_POSITION_BATCH messages and
// whenever it finds nothing to read (so a gating producer never waits on an unpublished position).
// Acquire/release only, no fences, no read-modify-write. It has no lap detection: the producer
// always gates (the benchmark's readers are gating).
typedef struct {
    uint64_t seq;        // the message's sequence
    uint64_t payload[7];
} tb_c_slot;
#define TB_C_POSITION_BATCH 64
/// Layout of a C baseline segment: each shared word on its own pair of cache lines, then slots.
typedef struct {
    uint64_t cursor;            // written by the producer: next sequence to be published
    uint64_t pad0[15];
    uint64_t reader_position;   // written by the reader: next sequence it will read (batched)
    uint64_t pad1[15];
    uint64_t capacity;          // written once at creation
    uint64_t pad2[15];
} tb_c_ring_header;
/// The producer's private state (in its own memory, never shared).
typedef struct {
    uint64_t next;    // next sequence to publish
    uint64_t limit;   // cached reader position + capacity: publish below it without looking
    uint64_t mask;    // capacity - 1
} tb_c_producer;
/// The reader's private state.
typedef struct {
    uint64_t next;        // next sequence to read
    uint64_t available;   // cached producer cursor
    uint64_t published;   // last position stored into reader_position
    uint64_t mask;
} tb_c_reader;

static inline tb_c_producer tb_c_producer_make(const tb_c_ring_header *h) {
    tb_c_producer p = { 0, h->capacity, h->capacity - 1 };
    return p;
}
static inline tb_c_reader tb_c_reader_make(const tb_c_ring_header *h) {
    tb_c_reader r = { 0, 0, 0, h->capacity - 1 };
    return r;
}
/// Publishes the next message, payload (1, s, stamp, s, 0, 0, 0), waiting while the reader is a
/// whole ring behind.
static inline void tb_c_publish(tb_c_ring_header *h, tb_c_slot *slots, tb_c_producer *p, uint64_t stamp) {
    uint64_t s = p->next;
    while (s >= p->limit) {
        p->limit = __atomic_load_n(&h->reader_position, __ATOMIC_ACQUIRE) + (p->mask + 1);
        if (s >= p->limit) tb_cpu_relax();
    }
    tb_c_slot *slot = &slots[s & p->mask];
    slot->seq = s;
    slot->payload[0] = 1;
    slot->payload[1] = s;
    slot->payload[2] = stamp;
    slot->payload[3] = s;
    slot->payload[4] = 0;
    slot->payload[5] = 0;
    slot->payload[6] = 0;
    p->next = s + 1;
    __atomic_store_n(&h->cursor, s + 1, __ATOMIC_RELEASE);
}
/// 1: the next message's 7 payload words copied to `out`; 0: nothing published yet (the reader's
/// position is then published, so a waiting producer sees it).
static inline int tb_c_poll(tb_c_ring_header *h, const tb_c_slot *slots, tb_c_reader *r, uint64_t *out) {
    uint64_t s = r->next;
    if (s >= r->available) {
        r->available = __atomic_load_n(&h->cursor, __ATOMIC_ACQUIRE);
        if (s >= r->available) {
            if (r->published != s) {
                __atomic_store_n(&h->reader_position, s, __ATOMIC_RELEASE);
                r->published = s;
            }
            return 0;
        }
    }
    const tb_c_slot *slot = &slots[s & r->mask];
    for (int i = 0; i < 7; i++) out[i] = slot->payload[i];
    r->next = s + 1;
    if (s + 1 - r->published >= TB_C_POSITION_BATCH) {
        // Release: the producer may overwrite these slots only after our reads of them.
        __atomic_store_n(&h->reader_position, s + 1, __ATOMIC_RELEASE);
        r->published = s + 1;
    }
    return 1;
}

#endif
