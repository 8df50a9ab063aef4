package ai.chunkwise.train.memory;

import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of this JVM while a measurement runs, sampled every 5 ms on a daemon thread:
 * <ul>
 *   <li>resident set (the kernel's VmRSS: every native buffer ND4J/SameDiff allocates, which JavaCPP's own
 *       counters do not all see);</li>
 *   <li>off-heap = resident set minus the committed Java heap at the same instant;</li>
 *   <li>Java heap in use (the JVM's own peak per heap pool, so nothing between samples is missed);</li>
 *   <li>bytes JavaCPP tracks ({@link Pointer#totalBytes()}).</li>
 * </ul>
 * Used by the {@code grad} command's summary and by every benchmark.
 */
public final class PeakMemory implements AutoCloseable {
    private static final Path SELF_STATUS = Path.of("/proc/self/status");

    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long peakResident;
    private volatile long peakOffHeap;
    private volatile long peakTracked;

    private PeakMemory() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        sample();
        sampler = new Thread(this::sampleLoop, "peak-memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts sampling now (heap pool peaks are reset, so earlier activity does not count). */
    public static PeakMemory start() {
        return new PeakMemory();
    }

    private void sampleLoop() {
        while (running) {
            sample();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void sample() {
        long rss = residentSetBytes();
        long heapCommitted = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapCommitted += pool.getUsage().getCommitted();
            }
        }
        peakResident = Math.max(peakResident, rss);
        peakOffHeap = Math.max(peakOffHeap, rss - heapCommitted);
        peakTracked = Math.max(peakTracked, Pointer.totalBytes());
    }

    public long peakResidentBytes() {
        sample();
        return peakResident;
    }

    public long peakOffHeapBytes() {
        sample();
        return peakOffHeap;
    }

    /** Sum over the heap pools of their peak usage since {@link #start}. */
    public long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    public long peakJavaCppTrackedBytes() {
        sample();
        return peakTracked;
    }

    /** Resident set of this process (0 where /proc is absent). */
    public static long residentSetBytes() {
        return vmRssBytes(SELF_STATUS);
    }

    /** Resident set of another process, e.g. a benchmark's child JVM (0 once it has exited). */
    public static long residentSetBytes(long pid) {
        return vmRssBytes(Path.of("/proc", String.valueOf(pid), "status"));
    }

    private static long vmRssBytes(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring("VmRSS:".length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** Stops sampling after a last sample; the peaks stay readable. */
    @Override
    public void close() {
        running = false;
        sampler.interrupt();
        sample();
    }
}
