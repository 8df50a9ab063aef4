package ai.chunkwise.train.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Wall-clock and process-CPU seconds of repeated runs of one step, with the order statistics the benchmarks
 * report. On a shared machine the CPU seconds (all of this JVM's threads: the step's, GC, JIT) move much less
 * than the wall clock, which also counts the time other processes held the cores. The minor page faults per step
 * say how much fresh memory a step touched: on a virtual machine each one can cost microseconds of the host's
 * time, which then shows up in both clocks (docs/performance-archive.md, round 6).
 */
record StepTimes(double[] seconds, double[] cpuSeconds, double[] minorFaults) {

    StepTimes(double[] seconds, double[] cpuSeconds) {
        this(seconds, cpuSeconds, new double[0]);
    }

    static StepTimes measure(int warmups, int repeats, Runnable step) {
        for (int i = 0; i < warmups; i++) {
            step.run();
        }
        double[] s = new double[repeats];
        double[] cpu = new double[repeats];
        double[] faults = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long f0 = minorFaultsSoFar();
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            step.run();
            s[i] = (System.nanoTime() - t0) / 1e9;
            cpu[i] = (processCpuNanos() - c0) / 1e9;
            faults[i] = f0 < 0 ? -1 : minorFaultsSoFar() - f0;
        }
        return new StepTimes(s, cpu, faults);
    }

    /**
     * This process's minor page faults so far (field 10 of Linux's /proc/self/stat), or -1 where there is no such
     * file. Read by hand: the JDK has no such counter, and the OSHI that ND4J brings (3.4) predates its one.
     */
    static long minorFaultsSoFar() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // field 2, the command name, may hold spaces: count from the parenthesis that closes it
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[10 - 3]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Median minor page faults of a timed step (-1 where they could not be read). */
    double minorFaultsMedian() {
        return minorFaults.length == 0 ? -1 : percentile(minorFaults, 50);
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
