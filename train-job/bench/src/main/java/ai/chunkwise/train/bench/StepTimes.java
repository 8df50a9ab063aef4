package ai.chunkwise.train.bench;

import java.util.Arrays;

/** Wall-clock seconds of repeated runs of one step, with the order statistics the benchmarks report. */
record StepTimes(double[] seconds) {

    static StepTimes measure(int warmups, int repeats, Runnable step) {
        for (int i = 0; i < warmups; i++) {
            step.run();
        }
        double[] s = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            step.run();
            s[i] = (System.nanoTime() - t0) / 1e9;
        }
        return new StepTimes(s);
    }

    double median() {
        return percentile(50);
    }

    /** Nearest-rank percentile. */
    double percentile(double p) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
