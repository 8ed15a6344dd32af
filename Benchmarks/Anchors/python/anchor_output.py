"""What every Python anchor shares: how it prints a figure, percentiles, RSS and CPU time.

An anchor prints one line per figure, `FIGURE<TAB>VALUE`, for the calling script to read; one
process run gives one value per figure (the script alternates rounds with the project's tool).
"""
import os
import resource


def report(figure, value):
    print(f"{figure}\t{value:.6g}", flush=True)


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted list (p in 0..100)."""
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return sorted_values[int(rank) - 1]


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds():
    """User plus system CPU of this process (every thread) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
