package ai.chunkwise.train.cli;

import org.bytedeco.javacpp.Pointer;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Peak memory of a run: the JVM heap (peak usage of the heap pools, as the JVM records it) and the process's
 * physical memory (JavaCPP's {@link Pointer#physicalBytes()}: resident set, which covers ND4J's native buffers,
 * sampled every 10 ms by a daemon thread) and the bytes JavaCPP itself tracks ({@link Pointer#totalBytes()}).
 */
final class PeakMemory implements AutoCloseable {
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long peakPhysical;
    private volatile long peakTracked;

    private PeakMemory() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        sample();
        sampler = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "peak-memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    static PeakMemory start() {
        return new PeakMemory();
    }

    private void sample() {
        peakPhysical = Math.max(peakPhysical, Pointer.physicalBytes());
        peakTracked = Math.max(peakTracked, Pointer.totalBytes());
    }

    /** Sum of the heap pools' peak usage since start. */
    long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    long peakPhysicalBytes() {
        sample();
        return peakPhysical;
    }

    long peakJavaCppTrackedBytes() {
        sample();
        return peakTracked;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
