package ai.chunkwise.train.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train.memory.limit: sizes as users write them, and "auto" from /proc/meminfo and the cgroup limit. */
class MemoryBudgetTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void sizesAreBinaryUnitsAsInHocon() {
        assertEquals(12 * GIB, MemoryBudget.parse("12G").bytes());
        assertEquals(12 * GIB, MemoryBudget.parse("12 GiB").bytes());
        assertEquals(800L << 20, MemoryBudget.parse("800M").bytes());
        assertEquals(123456789L, MemoryBudget.parse("123456789").bytes());
        assertEquals("train.memory.limit = 12G", MemoryBudget.parse("12G").origin());
    }

    @Test
    void badValuesNameTheKeyAndTheValue() {
        for (String bad : new String[] {"lots", "0", "-5G"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryBudget.parse(bad));
            assertTrue(e.getMessage().contains("train.memory.limit") && e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void autoIsMemAvailableOrTheLowerCgroupLimit() throws IOException {
        Path meminfo = Files.writeString(dir.resolve("meminfo"),
                "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8388608 kB\n");
        Path v2 = dir.resolve("memory.max");
        Path v1 = dir.resolve("memory.limit_in_bytes");

        Files.writeString(v2, "max\n");
        Files.writeString(v1, "9223372036854771712\n");   // cgroup v1's "unlimited"
        MemoryBudget free = MemoryBudget.machineFree(meminfo, v2, v1, 0);
        assertEquals(8 * GIB, free.bytes());
        assertTrue(free.origin().contains("MemAvailable"), free.origin());
        // the limit is on this process's resident set: what it holds already counts as its own
        assertEquals(8 * GIB + (300L << 20), MemoryBudget.machineFree(meminfo, v2, v1, 300L << 20).bytes());

        Files.writeString(v2, "4294967296\n");
        MemoryBudget container = MemoryBudget.machineFree(meminfo, v2, v1, 0);
        assertEquals(4 * GIB, container.bytes());
        assertTrue(container.origin().contains("cgroup"), container.origin());

        Files.delete(v2);
        Files.writeString(v1, "2147483648\n");
        assertEquals(2 * GIB, MemoryBudget.machineFree(meminfo, v2, v1, 0).bytes());
        assertEquals(2 * GIB, MemoryBudget.machineFree(dir.resolve("no-meminfo"), v2, v1, 0).bytes());
    }

    @Test
    void autoOnThisMachineIsWithinItsRam() throws IOException {
        long total = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                total = Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        long auto = MemoryBudget.parse("auto").bytes();
        assertTrue(auto > 0 && auto <= total, auto + " of " + total);
    }

    @Test
    void outOfMemoryIsFoundInsideWrappersAndNamesTheBudget() {
        // as JavaCPP throws it: the allocation that failed, caused by the limit it hit
        OutOfMemoryError oom = new OutOfMemoryError("Cannot allocate new LongPointer(1): totalBytes = 256, "
                + "physicalBytes = 300M");
        oom.initCause(new OutOfMemoryError("Physical memory usage is too high: physicalBytes (300M) > "
                + "maxPhysicalBytes (200M)"));
        RuntimeException wrapped = new RuntimeException("op failed", new IllegalStateException(oom));
        assertEquals(oom, OutOfMemory.find(wrapped).orElseThrow());
        assertTrue(OutOfMemory.find(new RuntimeException("no")).isEmpty());
        String m = OutOfMemory.message(oom, MemoryBudget.parse("200M"));
        assertTrue(m.contains("0.20 GiB (train.memory.limit = 200M)") && m.contains("train.method.chunk-size")
                && m.contains("LongPointer(1)") && m.contains("physicalBytes (300M) > maxPhysicalBytes (200M)"), m);
    }
}
