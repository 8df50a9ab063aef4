package ai.chunkwise.train.engine;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How SpaCO draws the set of chunks pass 2 visits (docs/seco-spaco.md). A sampler sees pass 1's loss per chunk,
 * so one that weighs chunks unequally (per-chunk q_j in its {@link ChunkSelection}) is one more constant here.
 */
public enum SpacoSampling {
    /**
     * Exactly t distinct chunks of k (the paper's Algorithm 2), q = t/k. Paths through several chunks survive
     * with probability below q^p, so the estimate is only approximately unbiased.
     */
    UNIFORM {
        @Override
        void requireValidBudget(double budget) {
            if (budget != Math.rint(budget)) {
                throw new IllegalArgumentException("uniform sampling visits exactly t chunks: the budget must be "
                        + "a whole number, got " + budget);
            }
        }

        @Override
        ChunkSelection draw(double[] chunkLosses, double budget, SplittableRandom random) {
            int chunks = chunkLosses.length;
            int t = (int) Math.min(chunks, budget);
            int[] order = new int[chunks];
            for (int i = 0; i < chunks; i++) {
                order[i] = i;
            }
            boolean[] visited = new boolean[chunks];
            for (int i = 0; i < t; i++) {   // partial Fisher-Yates: the first t of a random permutation
                int j = i + random.nextInt(chunks - i);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
                visited[order[i]] = true;
            }
            return new ChunkSelection(visited, (double) t / chunks);
        }
    },
    /**
     * Every chunk independently with probability q = t/k: a path through p chunks survives with probability
     * exactly q^p, so with the (1/q)^p scaling the estimate is exactly unbiased. The default.
     */
    BERNOULLI {
        @Override
        ChunkSelection draw(double[] chunkLosses, double budget, SplittableRandom random) {
            int chunks = chunkLosses.length;
            double q = Math.min(1.0, budget / chunks);
            boolean[] visited = new boolean[chunks];
            for (int i = 0; i < chunks; i++) {
                visited[i] = q >= 1.0 || random.nextDouble() < q;
            }
            return new ChunkSelection(visited, q);
        }
    },
    /**
     * {@link #BERNOULLI} conditioned on visiting at least one chunk, so no step back-propagates nothing. A path
     * through p chunks then survives with probability q^p / Z, where Z = 1 - (1-q)^k is the chance of a non-empty
     * draw (a surviving path makes the set non-empty); scaling each path once more by Z (on the loss it starts
     * from, {@link ChunkSelection#lossFactor}) keeps the estimate exactly unbiased.
     */
    NONEMPTY {
        @Override
        ChunkSelection draw(double[] chunkLosses, double budget, SplittableRandom random) {
            int chunks = chunkLosses.length;
            double q = Math.min(1.0, budget / chunks);
            double z = -Math.expm1(chunks * Math.log1p(-q));   // 1 - (1-q)^k, accurate for small q
            if (q >= 1.0) {
                return ChunkSelection.all(chunks);
            }
            // the first visited chunk from its distribution given a non-empty set, P(first = i) = q (1-q)^i / Z;
            // the chunks after it independently, as in BERNOULLI: together exactly the conditioned draw
            double u = random.nextDouble() * z;
            int first = 0;
            double below = q;   // P(first <= i) * Z = 1 - (1-q)^(i+1)
            while (below < u && first < chunks - 1) {
                first++;
                below = -Math.expm1((first + 1) * Math.log1p(-q));
            }
            boolean[] visited = new boolean[chunks];
            visited[first] = true;
            for (int i = first + 1; i < chunks; i++) {
                visited[i] = random.nextDouble() < q;
            }
            double[] probabilities = new double[chunks];
            java.util.Arrays.fill(probabilities, q);
            return new ChunkSelection(visited, probabilities, z);
        }
    },
    /**
     * Every chunk independently with its own probability q_j ({@link ImportanceProbabilities}: more often where
     * pass 1 measured more loss, sum q_j = t), scaled by 1/q_j: exactly unbiased like {@link #BERNOULLI}.
     */
    IMPORTANCE {
        @Override
        ChunkSelection draw(double[] chunkLosses, double budget, SplittableRandom random) {
            double[] q = ImportanceProbabilities.of(chunkLosses, budget);
            boolean[] visited = new boolean[q.length];
            for (int i = 0; i < q.length; i++) {
                visited[i] = q[i] >= 1.0 || random.nextDouble() < q[i];
            }
            return new ChunkSelection(visited, q);
        }
    };

    /**
     * @param chunkLosses pass 1's share of the batch loss per chunk (its length is k, the number of chunks)
     * @param budget      t, the number of chunks to visit (expected or exact, as the sampling defines it)
     */
    abstract ChunkSelection draw(double[] chunkLosses, double budget, SplittableRandom random);

    /** Rejects a budget this sampling cannot honour, naming why. */
    void requireValidBudget(double budget) {
    }

    /** Parses "uniform", "bernoulli", "nonempty" or "importance" (case-insensitive). */
    public static SpacoSampling parse(String name) {
        for (SpacoSampling s : values()) {
            if (s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown SpaCO sampling '" + name + "': use uniform, bernoulli, nonempty "
                + "or importance");
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
