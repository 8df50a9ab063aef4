package ai.chunkwise.train.bench;

import java.util.Arrays;

/**
 * Wall-clock and process-CPU seconds of repeated runs of one step, with the order statistics the benchmarks
 * report. On a shared machine the CPU seconds (all of this JVM's threads: the step's, GC, JIT) move much less
 * than the wall clock, which also counts the time other processes held the cores.
 */
record StepTimes(double[] seconds, double[] cpuSeconds) {

    static StepTimes measure(int warmups, int repeats, Runnable step) {
        for (int i = 0; i < warmups; i++) {
            step.run();
        }
        double[] s = new double[repeats];
        double[] cpu = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            step.run();
            s[i] = (System.nanoTime() - t0) / 1e9;
            cpu[i] = (processCpuNanos() - c0) / 1e9;
        }
        return new StepTimes(s, cpu);
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    double median() {
        return percentile(50);
    }

    double cpuMedian() {
        return percentile(cpuSeconds, 50);
    }

    /** Nearest-rank percentile of the wall-clock seconds. */
    double percentile(double p) {
        return percentile(seconds, p);
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
