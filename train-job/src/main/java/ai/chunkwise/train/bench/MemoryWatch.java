package ai.chunkwise.train.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of this JVM, sampled every few milliseconds on a daemon thread: resident set size (the kernel's
 * figure, so it covers every native buffer SameDiff allocates, which JavaCPP's counters do not all see) and the
 * Java heap in use. Off-heap = RSS minus committed heap at the same instant.
 */
final class MemoryWatch implements AutoCloseable {
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long peakRss;
    private volatile long peakHeap;
    private volatile long peakOffHeap;

    MemoryWatch() {
        sampler = new Thread(this::sampleLoop, "memory-watch");
        sampler.setDaemon(true);
        sampler.start();
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

    private void sample() {
        long rss = residentSetBytes();
        long heapUsed = 0;
        long heapCommitted = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapUsed += pool.getUsage().getUsed();
                heapCommitted += pool.getUsage().getCommitted();
            }
        }
        peakRss = Math.max(peakRss, rss);
        peakHeap = Math.max(peakHeap, heapUsed);
        peakOffHeap = Math.max(peakOffHeap, rss - heapCommitted);
    }

    long peakRssBytes() {
        return peakRss;
    }

    long peakHeapBytes() {
        return peakHeap;
    }

    long peakOffHeapBytes() {
        return peakOffHeap;
    }

    /** VmRSS of this process from /proc (Linux); 0 where /proc is absent. */
    static long residentSetBytes() {
        return procStatusKb(Path.of("/proc/self/status"), "VmRSS:") * 1024;
    }

    static long procStatusKb(Path status, String key) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
        sample();
    }
}
