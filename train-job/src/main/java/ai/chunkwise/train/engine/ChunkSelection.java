package ai.chunkwise.train.engine;

import java.util.Arrays;

/**
 * Which chunks pass 2 back-propagates, and for each chunk the probability q_j with which it was chosen
 * (a visited chunk's own loss and its injected K/V gradient are scaled by 1/q_j; notes in docs/experiments.md).
 * With independent draws a gradient path through chunks j1..jp survives with probability q_j1...q_jp and
 * carries the factor 1/(q_j1...q_jp), so the estimate is exactly unbiased whatever the q_j (all > 0).
 */
record ChunkSelection(boolean[] visited, double[] inclusionProbabilities) {

    ChunkSelection {
        if (visited.length != inclusionProbabilities.length) {
            throw new IllegalArgumentException("selection of " + visited.length + " chunks has "
                    + inclusionProbabilities.length + " inclusion probabilities");
        }
        for (int j = 0; j < visited.length; j++) {
            double q = inclusionProbabilities[j];
            if (visited[j] && !(q > 0 && q <= 1)) {
                throw new IllegalArgumentException("visited chunk " + j + " has inclusion probability " + q
                        + ": it must lie in (0, 1]");
            }
        }
    }

    /** Every chunk with the same probability q. */
    ChunkSelection(boolean[] visited, double inclusionProbability) {
        this(visited, filled(visited.length, inclusionProbability));
    }

    static ChunkSelection all(int chunks) {
        boolean[] v = new boolean[chunks];
        Arrays.fill(v, true);
        return new ChunkSelection(v, 1.0);
    }

    private static double[] filled(int n, double q) {
        double[] p = new double[n];
        Arrays.fill(p, q);
        return p;
    }

    int visitedCount() {
        int n = 0;
        for (boolean b : visited) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
