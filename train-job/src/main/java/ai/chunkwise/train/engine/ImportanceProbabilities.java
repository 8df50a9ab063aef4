package ai.chunkwise.train.engine;

/**
 * Per-chunk inclusion probabilities for {@link SpacoSampling#IMPORTANCE}: q_j proportional to a mix of the uniform
 * share 1/k and chunk j's share of the pass-1 loss, w_j = FLOOR/k + (1 - FLOOR) J_j / sum(J), scaled so that the
 * q_j (each capped at 1) add up to the budget t. The uniform part keeps every q_j > 0: a chunk without loss
 * of its own still carries gradient paths (its K/V feeds later chunks), and unbiasedness needs q_j > 0 for them.
 * Why loss shares: with independent draws the variance of the direct terms is sum_j (1/q_j - 1) |g_j|^2, lowest
 * for q_j proportional to |g_j|, and a chunk's loss is the only per-chunk signal pass 1 gives for free.
 */
final class ImportanceProbabilities {
    /** Weight of the uniform share in the mix. */
    static final double FLOOR = 0.5;

    private ImportanceProbabilities() {
    }

    static double[] of(double[] chunkLosses, double budget) {
        int k = chunkLosses.length;
        double total = 0;
        for (double j : chunkLosses) {
            total += Math.max(0, j);
        }
        double[] w = new double[k];
        for (int j = 0; j < k; j++) {
            double share = total > 0 && Double.isFinite(total) ? Math.max(0, chunkLosses[j]) / total : 1.0 / k;
            w[j] = FLOOR / k + (1 - FLOOR) * share;
        }
        return capped(w, Math.min(budget, k));
    }

    /**
     * q_j = min(1, c w_j) with c chosen so that sum q_j = target (water-filling: chunks that reach 1 are fixed and
     * the rest of the budget is spread over the others in proportion to w).
     */
    static double[] capped(double[] w, double target) {
        int k = w.length;
        double[] q = new double[k];
        boolean[] full = new boolean[k];
        double remaining = target;
        for (int round = 0; round <= k; round++) {
            double free = 0;
            for (int j = 0; j < k; j++) {
                if (!full[j]) {
                    free += w[j];
                }
            }
            boolean changed = false;
            for (int j = 0; j < k; j++) {
                if (!full[j]) {
                    q[j] = remaining * w[j] / free;
                    if (q[j] >= 1) {
                        q[j] = 1;
                        full[j] = true;
                        remaining -= 1;
                        changed = true;
                    }
                }
            }
            if (!changed || remaining <= 0) {
                break;
            }
        }
        return q;
    }
}
