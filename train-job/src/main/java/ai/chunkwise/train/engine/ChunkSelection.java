package ai.chunkwise.train.engine;

import java.util.Arrays;

/**
 * Which chunks pass 2 back-propagates, and the probability q_j with which chunk j was chosen: a visited chunk's
 * own loss and the K/V gradient injected into it are scaled by 1/q_j (docs/seco-spaco.md). With independent
 * draws a path through chunks j1 > j2 > ... survives with probability q_j1 q_j2 ... and carries exactly the
 * inverse scale, so the estimate is unbiased whatever the q_j (a sampler may make them unequal).
 */
public record ChunkSelection(boolean[] visited, double[] inclusionProbabilities, double lossFactor) {

    /**
     * @param lossFactor one more factor on every visited chunk's loss weights (not on the K/V gradients): every
     *                   gradient path starts at one chunk's loss, so it scales each path once. A sampler that
     *                   conditions its draw (e.g. on a non-empty set) puts the conditioning probability here.
     */
    public ChunkSelection {
        if (!(lossFactor > 0) || Double.isInfinite(lossFactor)) {
            throw new IllegalArgumentException("loss factor must be finite and > 0, got " + lossFactor);
        }
        if (visited.length != inclusionProbabilities.length) {
            throw new IllegalArgumentException("selection of " + visited.length + " chunks has "
                    + inclusionProbabilities.length + " inclusion probabilities");
        }
        for (int j = 0; j < visited.length; j++) {
            if (visited[j] && !(inclusionProbabilities[j] > 0 && inclusionProbabilities[j] <= 1)) {
                throw new IllegalArgumentException("chunk " + j + " is visited with inclusion probability "
                        + inclusionProbabilities[j] + ": it must lie in (0, 1]");
            }
        }
    }

    /** Independent draws with probabilities q_j, unconditioned. */
    public ChunkSelection(boolean[] visited, double[] inclusionProbabilities) {
        this(visited, inclusionProbabilities, 1.0);
    }

    /** Every chunk drawn with the same probability q. */
    public ChunkSelection(boolean[] visited, double inclusionProbability) {
        this(visited, filled(visited.length, inclusionProbability));
    }

    /** Every chunk, q = 1: SeCO. */
    public static ChunkSelection all(int chunks) {
        boolean[] v = new boolean[chunks];
        Arrays.fill(v, true);
        return new ChunkSelection(v, 1.0);
    }

    public int chunks() {
        return visited.length;
    }

    /** 1 / q_j: the factor on chunk j's loss weights and on the K/V gradient injected into it. */
    double scale(int chunk) {
        return 1.0 / inclusionProbabilities[chunk];
    }

    /** The factor on chunk j's loss weights: {@link #scale} times {@link #lossFactor}. */
    double lossScale(int chunk) {
        return scale(chunk) * lossFactor;
    }

    public int visitedCount() {
        int n = 0;
        for (boolean b : visited) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    private static double[] filled(int n, double value) {
        double[] a = new double[n];
        Arrays.fill(a, value);
        return a;
    }
}
