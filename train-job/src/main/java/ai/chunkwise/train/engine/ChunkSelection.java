package ai.chunkwise.train.engine;

/**
 * Which chunks pass 2 back-propagates, and the probability q with which each chunk is chosen (a visited
 * chunk's own loss and its injected K/V gradient are scaled by 1/q; docs/seco-spaco.md).
 */
record ChunkSelection(boolean[] visited, double inclusionProbability) {

    static ChunkSelection all(int chunks) {
        boolean[] v = new boolean[chunks];
        java.util.Arrays.fill(v, true);
        return new ChunkSelection(v, 1.0);
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
