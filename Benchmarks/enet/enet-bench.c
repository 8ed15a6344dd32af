/* enet-bench: ENet's side of scripts/bench-gamenet-vs-enet.sh (Examples/GameNetBench is
 * GameNet's), the same workloads, arguments and RESULT lines as gamenet-bench.
 *   enet-bench server port=PORT workload=latency|cpu|bulk|idle [count=N] [peers=N] [seconds=N]
 *   enet-bench client port=PORT workload=... [count=N] [size=BYTES] [hz=60] [peers=N]
 * One channel, reliable (ENet's reliable packets are ordered within a channel); library
 * defaults otherwise (no bandwidth limits, so ENet's window is its maximum, 64 KiB).
 * Built by the script: gcc -O2 enet-bench.c -lenet. */
#include <enet/enet.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *arg(int argc, char **argv, const char *key, const char *fallback) {
    size_t n = strlen(key);
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
    return fallback;
}
static long iarg(int argc, char **argv, const char *key, long fallback) {
    const char *v = arg(argc, argv, key, NULL);
    return v ? atol(v) : fallback;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
static int64_t cpu_us(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (int64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}
static long resident_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}
static long heap_bytes(void) {
    struct mallinfo2 m = mallinfo2();
    return (long)(m.uordblks + m.hblkhd);
}

/* The same message layout as gamenet-bench: send time, index, then bytes of both. */
static void fill(uint8_t *b, size_t size, uint32_t index, int64_t sent) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)sent >> (8 * i));
    for (int i = 0; i < 4; i++) b[8 + i] = (uint8_t)(index >> (8 * i));
    for (size_t i = 12; i < size; i++) b[i] = (uint8_t)(index + i);
}
static int parse(const uint8_t *b, size_t size, uint32_t *index, int64_t *sent) {
    if (size < 12) return 0;
    uint64_t s = 0;
    uint32_t x = 0;
    for (int i = 0; i < 8; i++) s |= (uint64_t)b[i] << (8 * i);
    for (int i = 0; i < 4; i++) x |= (uint32_t)b[8 + i] << (8 * i);
    for (size_t i = 12; i < size; i++)
        if (b[i] != (uint8_t)(x + i)) return 0;
    *index = x;
    *sent = (int64_t)s;
    return 1;
}
static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
static double pct_ms(int64_t *v, long n, double p) {
    if (n == 0) return 0;
    long i = (long)((n - 1) * p + 0.5);
    return v[i] / 1e6;
}

static int server(int argc, char **argv) {
    const char *workload = arg(argc, argv, "workload", "latency");
    long count = iarg(argc, argv, "count", 600), peers = iarg(argc, argv, "peers", 1000);
    long idle_seconds = iarg(argc, argv, "seconds", 10);
    long rss0 = resident_bytes(), heap0 = heap_bytes();
    ENetAddress address = {.host = 0, .port = (enet_uint16)iarg(argc, argv, "port", 40000)};
    enet_address_set_host(&address, "127.0.0.1");
    ENetHost *host = enet_host_create(&address, (size_t)(peers + 16 > 64 ? peers + 16 : 64), 1, 0, 0);
    if (!host) { fprintf(stderr, "enet-bench server: cannot create the host\n"); return 1; }
    printf("ready\n");
    fflush(stdout);
    ENetEvent event;
    ENetPeer *peer = NULL;
    long connected = 0, expected = 0, bytes_delivered = 0;
    int finished = 0, gone = 0;
    int64_t *lat = calloc((size_t)count + 1, sizeof *lat);
    int64_t first_sent = 0, last_delivery = 0, cpu0 = 0, give_up = now_ns() + 300000000000LL;
    enet_uint32 base_bytes = 0, base_packets = 0;
    if (strcmp(workload, "idle") == 0) {
        while (connected < peers && now_ns() < give_up)
            while (enet_host_service(host, &event, 100) > 0)
                if (event.type == ENET_EVENT_TYPE_CONNECT) connected++;
        int64_t settle = now_ns() + 2000000000LL;
        while (now_ns() < settle) enet_host_service(host, &event, 100);
        long rss = resident_bytes() - rss0, heap = heap_bytes() - heap0;
        int64_t c0 = cpu_us(), w0 = now_ns(), until = w0 + idle_seconds * 1000000000LL;
        long now_connected = connected;
        while (now_ns() < until) {
            int64_t left = (until - now_ns()) / 1000000;
            if (enet_host_service(host, &event, (enet_uint32)(left > 0 ? left : 0)) > 0 &&
                event.type == ENET_EVENT_TYPE_DISCONNECT)
                now_connected--;
        }
        double cpu_ms_per_s = (cpu_us() - c0) / 1e3 / ((now_ns() - w0) / 1e9);
        printf("RESULT connected=%ld rss_per_peer=%ld heap_per_peer=%ld cpu_ms_per_s=%f\n", now_connected, rss / peers,
               heap / peers, cpu_ms_per_s);
        fflush(stdout);
        for (size_t i = 0; i < host->peerCount; i++)
            if (host->peers[i].state == ENET_PEER_STATE_CONNECTED) enet_peer_disconnect(&host->peers[i], 0);
        int64_t end = now_ns() + 200000000LL;
        while (now_ns() < end) enet_host_service(host, &event, 10);
        enet_host_destroy(host);
        return 0;
    }
    while (!finished && now_ns() < give_up) {
        while (!finished && enet_host_service(host, &event, 100) > 0) {
            if (event.type == ENET_EVENT_TYPE_CONNECT && !peer) {
                peer = event.peer;
                base_bytes = host->totalSentData;
                base_packets = host->totalSentPackets;
                cpu0 = cpu_us();
            } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
                int64_t now = now_ns(), sent;
                uint32_t index;
                if (!parse(event.packet->data, event.packet->dataLength, &index, &sent) || index != (uint32_t)expected) {
                    fprintf(stderr, "enet-bench server: message %ld out of order or corrupt\n", expected);
                    return 1;
                }
                if (index == 0) first_sent = sent;
                lat[expected++] = now - sent;
                bytes_delivered += (long)event.packet->dataLength;
                last_delivery = now;
                enet_packet_destroy(event.packet);
                if (expected == count) {
                    finished = 1;
                    uint8_t one = 1;
                    enet_peer_send(peer, 0, enet_packet_create(&one, 1, ENET_PACKET_FLAG_RELIABLE));
                    enet_host_flush(host);
                }
            } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
                gone = 1;
            }
        }
    }
    int64_t cpu = cpu_us() - cpu0;
    if (expected != count) { fprintf(stderr, "enet-bench server: %ld of %ld messages arrived\n", expected, count); return 1; }
    enet_uint32 bytes = host->totalSentData - base_bytes, packets = host->totalSentPackets - base_packets;
    qsort(lat, (size_t)count, sizeof *lat, cmp64);
    printf("RESULT delivered=%ld p50_ms=%.3f p99_ms=%.3f bytes=%u datagrams=%u cpu_us=%lld goodput_MBps=%f\n", expected,
           pct_ms(lat, count, 0.5), pct_ms(lat, count, 0.99), bytes, packets, (long long)cpu,
           bytes_delivered / ((last_delivery - first_sent) / 1e9) / 1e6);
    fflush(stdout);
    int64_t leave_by = now_ns() + 10000000000LL;
    while (!gone && now_ns() < leave_by)
        if (enet_host_service(host, &event, 100) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) gone = 1;
    enet_host_destroy(host);
    free(lat);
    return 0;
}

static int idle_clients(long peers, ENetAddress *server) {
    ENetHost **hosts = calloc((size_t)peers, sizeof *hosts);
    long connected = 0, ended = 0;
    ENetEvent event;
    for (long i = 0; i < peers; i++) {
        if (i % 20 == 0) usleep(10000);
        hosts[i] = enet_host_create(NULL, 1, 1, 0, 0);
        if (!hosts[i] || !enet_host_connect(hosts[i], server, 1, 0)) { fprintf(stderr, "enet-bench: connect %ld failed\n", i); return 1; }
        enet_host_flush(hosts[i]);
    }
    int64_t give_up = now_ns() + 120000000000LL;
    while (ended < peers && now_ns() < give_up) {
        for (long i = 0; i < peers; i++) {
            if (!hosts[i]) continue;
            while (hosts[i] && enet_host_service(hosts[i], &event, 0) > 0) {
                if (event.type == ENET_EVENT_TYPE_CONNECT) connected++;
                if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
                    ended++;
                    enet_host_destroy(hosts[i]);
                    hosts[i] = NULL;
                }
            }
        }
        usleep(1000);
    }
    printf("RESULT connected=%ld\n", connected);
    return 0;
}

static int client(int argc, char **argv) {
    const char *workload = arg(argc, argv, "workload", "latency");
    long count = iarg(argc, argv, "count", 600);
    ENetAddress address = {.host = 0, .port = (enet_uint16)iarg(argc, argv, "port", 40000)};
    enet_address_set_host(&address, "127.0.0.1");
    if (strcmp(workload, "idle") == 0) return idle_clients(iarg(argc, argv, "peers", 1000), &address);
    size_t size = strcmp(workload, "bulk") == 0 ? (size_t)iarg(argc, argv, "size", 1 << 20) : 32;
    int64_t interval = (int64_t)(1e9 / atof(arg(argc, argv, "hz", "60")));
    ENetHost *host = enet_host_create(NULL, 1, 1, 0, 0);
    ENetPeer *peer = enet_host_connect(host, &address, 1, 0);
    ENetEvent event;
    int connected = 0, done = 0, ended = 0;
    int64_t give_up = now_ns() + 300000000000LL;
    while (!connected && now_ns() < give_up)
        if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT) connected = 1;
    if (!connected) { fprintf(stderr, "enet-bench client: no connection\n"); return 1; }
    enet_uint32 base_bytes = host->totalSentData, base_packets = host->totalSentPackets;
    int64_t cpu0 = cpu_us(), start = now_ns();
    uint8_t *buffer = malloc(size);
    long sent = 0;
#define HANDLE(e)                                                                            \
    do {                                                                                     \
        if ((e).type == ENET_EVENT_TYPE_RECEIVE) {                                           \
            done = done || ((e).packet->dataLength == 1 && (e).packet->data[0] == 1);        \
            enet_packet_destroy((e).packet);                                                 \
        } else if ((e).type == ENET_EVENT_TYPE_DISCONNECT) {                                 \
            ended = 1;                                                                       \
        }                                                                                    \
    } while (0)
    while (sent < count && !ended) {
        if (strcmp(workload, "latency") == 0) {
            int64_t due = start + sent * interval;
            for (int64_t now = now_ns(); now < due; now = now_ns()) {
                if (enet_host_service(host, &event, (enet_uint32)((due - now + 999999) / 1000000)) > 0) HANDLE(event);
            }
            fill(buffer, size, (uint32_t)sent, now_ns());
            enet_peer_send(peer, 0, enet_packet_create(buffer, size, ENET_PACKET_FLAG_RELIABLE));
            enet_host_flush(host);
            sent++;
            continue;
        }
        /* cpu: as many as GameNet's channel holds (4,096 queued messages), then a pump of 1 ms.
         * bulk: everything at once (GameNet's 4 MiB of queue is far over its window, too). */
        int bulk = strcmp(workload, "bulk") == 0;
        while (sent < count && (bulk || (long)(enet_list_size(&peer->outgoingCommands) +
                                                enet_list_size(&peer->sentReliableCommands)) < 4096)) {
            fill(buffer, size, (uint32_t)sent, now_ns());
            enet_peer_send(peer, 0, enet_packet_create(buffer, size, ENET_PACKET_FLAG_RELIABLE));
            sent++;
        }
        int64_t until = now_ns() + 1000000;
        while (now_ns() < until)
            if (enet_host_service(host, &event, 1) > 0) HANDLE(event);
    }
    while (!done && !ended && now_ns() < give_up)
        if (enet_host_service(host, &event, 10) > 0) HANDLE(event);
    int64_t cpu = cpu_us() - cpu0;
    if (!done) { fprintf(stderr, "enet-bench client: the server never said done\n"); return 1; }
    printf("RESULT sent=%ld bytes=%u datagrams=%u cpu_us=%lld resent=%u\n", sent, host->totalSentData - base_bytes,
           host->totalSentPackets - base_packets, (long long)cpu, peer->packetsLost);
    fflush(stdout);
    enet_peer_disconnect(peer, 0);
    int64_t end = now_ns() + 200000000LL;
    while (now_ns() < end && enet_host_service(host, &event, 10) >= 0)
        if (event.type == ENET_EVENT_TYPE_DISCONNECT) break;
    enet_host_destroy(host);
    free(buffer);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || enet_initialize() != 0) { fprintf(stderr, "usage: enet-bench server|client key=value...\n"); return 2; }
    atexit(enet_deinitialize);
    if (strcmp(argv[1], "server") == 0) return server(argc, argv);
    if (strcmp(argv[1], "client") == 0) return client(argc, argv);
    fprintf(stderr, "usage: enet-bench server|client key=value...\n");
    return 2;
}
