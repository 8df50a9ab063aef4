package ai.chunkwise.tokenize.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of the JVM's live Java threads, summed by role, so that the bench can say where a job's CPU went.
 * Threads that end between two readings lose their time to "vm_gc_jit_other" (the process total minus the
 * listed threads).
 */
final class ThreadCpu {
    static final String TASKS = "spark_tasks";
    static final String DRIVER = "driver_main";
    static final String SPARK_OTHER = "spark_other_threads";
    static final String VM = "vm_gc_jit_other";
    private static final String COUNTER = "#";
    private static final String GC_MS = COUNTER + "gc_ms";
    private static final String JIT_MS = COUNTER + "jit_ms";

    private ThreadCpu() {
    }

    /**
     * Nanoseconds of CPU per role, keyed "role/threadId" so that a later reading can be subtracted per thread,
     * plus the JVM's GC and JIT counters (milliseconds, keys starting with "#").
     */
    static Map<String, Long> byGroup() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> cpu = new LinkedHashMap<>();
        for (long id : mx.getAllThreadIds()) {
            ThreadInfo info = mx.getThreadInfo(id);
            long nanos = mx.getThreadCpuTime(id);
            if (info == null || nanos < 0) {
                continue;
            }
            cpu.put(roleOf(info.getThreadName()) + "/" + id, nanos);
        }
        long gcMs = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcMs += Math.max(0, gc.getCollectionTime());
        }
        cpu.put(GC_MS, gcMs);
        cpu.put(JIT_MS, ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
        return cpu;
    }

    private static long gcMillis(Map<String, Long> reading) {
        return reading.get(GC_MS);
    }

    private static String roleOf(String threadName) {
        if (threadName.startsWith("Executor task launch worker")) {
            return TASKS;
        }
        return threadName.equals("main") ? DRIVER : SPARK_OTHER;
    }

    /** Seconds per role between two readings; the process CPU not seen in any listed thread goes to VM. */
    static Map<String, Double> split(Map<String, Long> before, Map<String, Long> after, double processSeconds) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (String role : new String[]{TASKS, DRIVER, SPARK_OTHER}) {
            seconds.put(role, 0.0);
        }
        double listed = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            if (e.getKey().startsWith(COUNTER)) {
                continue;
            }
            double s = (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e9;
            String role = e.getKey().substring(0, e.getKey().indexOf('/'));
            seconds.merge(role, s, Double::sum);
            listed += s;
        }
        seconds.put(VM, processSeconds - listed);
        // two clues to what VM time is: GC pause time (wall; each pause keeps all GC threads busy) and JIT
        // compilation time, both accumulated by the JVM since its start
        seconds.put("of_which_gc_pause_wall", (gcMillis(after) - gcMillis(before)) / 1e3);
        seconds.put("of_which_jit_compile", (after.get(JIT_MS) - before.get(JIT_MS)) / 1e3);
        seconds.replaceAll((k, v) -> Math.round(v * 1000) / 1000.0);
        return seconds;
    }
}
