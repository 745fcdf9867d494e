package io.jcontainerd.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.jcontainerd.api.cgroups.v1.BlkIOEntry;
import io.jcontainerd.api.cgroups.v1.BlkIOStat;
import io.jcontainerd.api.cgroups.v1.CPUUsage;
import io.jcontainerd.api.cgroups.v1.HugetlbStat;
import io.jcontainerd.api.cgroups.v1.MemoryEntry;
import io.jcontainerd.api.cgroups.v1.Throttle;
import io.jcontainerd.shim.util.Json;
import io.jcontainerd.sys.ErrnoException;
import io.jcontainerd.sys.Libc;
import java.util.List;
import java.util.Map;

/**
 * Turns one {@code runc events --stats} sample into containerd's cgroup metrics: {@code
 * io.containerd.cgroups.v1.Metrics} on cgroup v1 (and hybrid) hosts, {@code io.containerd.cgroups.v2.Metrics}
 * where /sys/fs/cgroup is cgroup2, as containerd's shim reports them.
 */
final class Stats {
    private static final long CGROUP2_SUPER_MAGIC = 0x63677270L;

    private Stats() {}

    static boolean unified() {
        try {
            return Libc.statfsType("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC;
        } catch (ErrnoException e) {
            return false;
        }
    }

    static Any toAny(String runcEventsJson) {
        Object data = Json.path(Json.parse(runcEventsJson.strip()), "data");
        Message m = unified() ? v2(data) : v1(data);
        return Any.newBuilder().setTypeUrl(m.getDescriptorForType().getFullName()).setValue(m.toByteString()).build();
    }

    private static long n(Object root, String... path) {
        return Json.asLong(Json.path(root, path));
    }

    static io.jcontainerd.api.cgroups.v1.Metrics v1(Object d) {
        var b = io.jcontainerd.api.cgroups.v1.Metrics.newBuilder();
        b.setPids(io.jcontainerd.api.cgroups.v1.PidsStat.newBuilder().setCurrent(n(d, "pids", "current")).setLimit(n(d, "pids", "limit")));
        CPUUsage.Builder usage = CPUUsage.newBuilder()
                .setTotal(n(d, "cpu", "usage", "total"))
                .setKernel(n(d, "cpu", "usage", "kernel"))
                .setUser(n(d, "cpu", "usage", "user"));
        if (Json.path(d, "cpu", "usage", "percpu") instanceof List<?> l) l.forEach(v -> usage.addPerCpu(Json.asLong(v)));
        b.setCpu(io.jcontainerd.api.cgroups.v1.CPUStat.newBuilder().setUsage(usage).setThrottling(Throttle.newBuilder()
                .setPeriods(n(d, "cpu", "throttling", "periods"))
                .setThrottledPeriods(n(d, "cpu", "throttling", "throttled_periods"))
                .setThrottledTime(n(d, "cpu", "throttling", "throttled_time"))));
        Object raw = Json.path(d, "memory", "raw");
        b.setMemory(io.jcontainerd.api.cgroups.v1.MemoryStat.newBuilder()
                .setCache(n(raw, "cache")).setRss(n(raw, "rss")).setRssHuge(n(raw, "rss_huge"))
                .setMappedFile(n(raw, "mapped_file")).setDirty(n(raw, "dirty")).setWriteback(n(raw, "writeback"))
                .setPgPgIn(n(raw, "pgpgin")).setPgPgOut(n(raw, "pgpgout")).setPgFault(n(raw, "pgfault"))
                .setPgMajFault(n(raw, "pgmajfault")).setInactiveAnon(n(raw, "inactive_anon")).setActiveAnon(n(raw, "active_anon"))
                .setInactiveFile(n(raw, "inactive_file")).setActiveFile(n(raw, "active_file")).setUnevictable(n(raw, "unevictable"))
                .setHierarchicalMemoryLimit(n(raw, "hierarchical_memory_limit"))
                .setHierarchicalSwapLimit(n(raw, "hierarchical_memsw_limit"))
                .setTotalCache(n(raw, "total_cache")).setTotalRss(n(raw, "total_rss")).setTotalRssHuge(n(raw, "total_rss_huge"))
                .setTotalMappedFile(n(raw, "total_mapped_file")).setTotalDirty(n(raw, "total_dirty"))
                .setTotalWriteback(n(raw, "total_writeback")).setTotalPgPgIn(n(raw, "total_pgpgin"))
                .setTotalPgPgOut(n(raw, "total_pgpgout")).setTotalPgFault(n(raw, "total_pgfault"))
                .setTotalPgMajFault(n(raw, "total_pgmajfault")).setTotalInactiveAnon(n(raw, "total_inactive_anon"))
                .setTotalActiveAnon(n(raw, "total_active_anon")).setTotalInactiveFile(n(raw, "total_inactive_file"))
                .setTotalActiveFile(n(raw, "total_active_file")).setTotalUnevictable(n(raw, "total_unevictable"))
                .setUsage(entry(Json.path(d, "memory", "usage")))
                .setSwap(entry(Json.path(d, "memory", "swap")))
                .setKernel(entry(Json.path(d, "memory", "kernel")))
                .setKernelTcp(entry(Json.path(d, "memory", "kernelTCP"))));
        BlkIOStat.Builder blk = BlkIOStat.newBuilder();
        blkio(d, "io_service_bytes_recursive", blk::addIoServiceBytesRecursive);
        blkio(d, "io_serviced_recursive", blk::addIoServicedRecursive);
        blkio(d, "io_queue_recursive", blk::addIoQueuedRecursive);
        blkio(d, "io_service_time_recursive", blk::addIoServiceTimeRecursive);
        blkio(d, "io_wait_time_recursive", blk::addIoWaitTimeRecursive);
        blkio(d, "io_merged_recursive", blk::addIoMergedRecursive);
        blkio(d, "io_time_recursive", blk::addIoTimeRecursive);
        blkio(d, "sectors_recursive", blk::addSectorsRecursive);
        b.setBlkio(blk);
        if (Json.path(d, "hugetlb") instanceof Map<?, ?> h) {
            h.forEach((size, v) -> b.addHugetlb(HugetlbStat.newBuilder().setPagesize(String.valueOf(size))
                    .setUsage(n(v, "usage")).setMax(n(v, "max")).setFailcnt(n(v, "failcnt"))));
        }
        return b.build();
    }

    private static MemoryEntry entry(Object e) {
        return MemoryEntry.newBuilder().setLimit(n(e, "limit")).setUsage(n(e, "usage")).setMax(n(e, "max"))
                .setFailcnt(n(e, "failcnt")).build();
    }

    private static void blkio(Object d, String key, java.util.function.Consumer<BlkIOEntry> add) {
        if (Json.path(d, "blkio", key) instanceof List<?> l) {
            for (Object e : l) {
                add.accept(BlkIOEntry.newBuilder().setMajor(n(e, "major")).setMinor(n(e, "minor"))
                        .setOp(String.valueOf(Json.path(e, "op") == null ? "" : Json.path(e, "op"))).setValue(n(e, "value")).build());
            }
        }
    }

    static io.jcontainerd.api.cgroups.v2.Metrics v2(Object d) {
        var b = io.jcontainerd.api.cgroups.v2.Metrics.newBuilder();
        b.setPids(io.jcontainerd.api.cgroups.v2.PidsStat.newBuilder().setCurrent(n(d, "pids", "current")).setLimit(n(d, "pids", "limit")));
        b.setCpu(io.jcontainerd.api.cgroups.v2.CPUStat.newBuilder()
                .setUsageUsec(n(d, "cpu", "usage", "total") / 1000)
                .setUserUsec(n(d, "cpu", "usage", "user") / 1000)
                .setSystemUsec(n(d, "cpu", "usage", "kernel") / 1000)
                .setNrPeriods(n(d, "cpu", "throttling", "periods"))
                .setNrThrottled(n(d, "cpu", "throttling", "throttled_periods"))
                .setThrottledUsec(n(d, "cpu", "throttling", "throttled_time") / 1000));
        Object raw = Json.path(d, "memory", "raw");
        b.setMemory(io.jcontainerd.api.cgroups.v2.MemoryStat.newBuilder()
                .setAnon(n(raw, "anon")).setFile(n(raw, "file")).setKernelStack(n(raw, "kernel_stack")).setSlab(n(raw, "slab"))
                .setSock(n(raw, "sock")).setShmem(n(raw, "shmem")).setFileMapped(n(raw, "file_mapped"))
                .setFileDirty(n(raw, "file_dirty")).setFileWriteback(n(raw, "file_writeback")).setAnonThp(n(raw, "anon_thp"))
                .setInactiveAnon(n(raw, "inactive_anon")).setActiveAnon(n(raw, "active_anon"))
                .setInactiveFile(n(raw, "inactive_file")).setActiveFile(n(raw, "active_file")).setUnevictable(n(raw, "unevictable"))
                .setSlabReclaimable(n(raw, "slab_reclaimable")).setSlabUnreclaimable(n(raw, "slab_unreclaimable"))
                .setPgfault(n(raw, "pgfault")).setPgmajfault(n(raw, "pgmajfault"))
                .setWorkingsetRefault(n(raw, "workingset_refault")).setWorkingsetActivate(n(raw, "workingset_activate"))
                .setWorkingsetNodereclaim(n(raw, "workingset_nodereclaim")).setPgrefill(n(raw, "pgrefill"))
                .setPgscan(n(raw, "pgscan")).setPgsteal(n(raw, "pgsteal")).setPgactivate(n(raw, "pgactivate"))
                .setPgdeactivate(n(raw, "pgdeactivate")).setPglazyfree(n(raw, "pglazyfree")).setPglazyfreed(n(raw, "pglazyfreed"))
                .setThpFaultAlloc(n(raw, "thp_fault_alloc")).setThpCollapseAlloc(n(raw, "thp_collapse_alloc"))
                .setUsage(n(d, "memory", "usage", "usage")).setUsageLimit(n(d, "memory", "usage", "limit"))
                .setSwapUsage(n(d, "memory", "swap", "usage")).setSwapLimit(n(d, "memory", "swap", "limit")));
        return b.build();
    }
}
