package ai.chunkwise.train.data;

import java.util.SplittableRandom;

/**
 * The deterministic sequence order: each epoch is a permutation of [0, n) drawn from (seed, epoch) alone, so
 * epoch e's order is the same in every run and after every resume, whatever came before it.
 */
public final class EpochOrder {
    private final int sequences;
    private final long seed;
    private final boolean shuffle;

    /** @param shuffle false: every epoch reads the sequences in dataset order (0, 1, 2, ...) */
    public EpochOrder(int sequences, long seed, boolean shuffle) {
        if (sequences < 1) {
            throw new IllegalArgumentException("the order needs at least one sequence, got " + sequences);
        }
        this.sequences = sequences;
        this.seed = seed;
        this.shuffle = shuffle;
    }

    public int size() {
        return sequences;
    }

    /** The order of epoch {@code epoch}: a permutation of the sequence indices [0, size). */
    public int[] permutation(long epoch) {
        int[] order = new int[sequences];
        for (int i = 0; i < sequences; i++) {
            order[i] = i;
        }
        if (!shuffle) {
            return order;
        }
        // one independent stream per epoch: SplittableRandom's seed mixing decorrelates nearby seeds
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = sequences - 1; i > 0; i--) {   // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
