package ai.chunkwise.train.loop;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;

/**
 * Heap in use right after the most recent garbage collection of each heap pool (the JVM's own collection-usage
 * figures, no forced GC): the live data, free of the garbage that plain used-heap figures swing with. Its trend
 * over steps shows whether memory grows with the data read.
 */
final class HeapAfterGc {
    private HeapAfterGc() {
    }

    static long usedBytes() {
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                MemoryUsage u = pool.getCollectionUsage();
                if (u != null) {
                    used += u.getUsed();
                }
            }
        }
        return used;
    }
}
