package ai.chunkwise.train.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Which source each draw of a mixture reads, as Hugging Face's {@code interleave_datasets(probabilities=...)}:
 * draw k takes source s with probability weight_s / sum(weights), a function of (seed, k) alone. Shared by the
 * row stream ({@link TrainingStream}) and the reference stream ({@link TrainingReferenceStream}), which must agree.
 */
final class SourceMixture {
    private final double[] cumulative;
    private final long seed;

    SourceMixture(List<DatasetSource> sources, double[] weights, long seed, DataPosition start) {
        if (sources.size() != weights.length || sources.isEmpty()) {
            throw new IllegalArgumentException(sources.size() + " sources but " + weights.length + " weights");
        }
        if (start.sources().size() != sources.size()) {
            throw new IllegalArgumentException("the checkpoint's data position covers " + start.sources().size()
                    + " data source(s) but the configuration names " + sources.size()
                    + ": resume with the run's own train.data settings");
        }
        this.seed = seed;
        this.cumulative = new double[weights.length];
        double sum = 0;
        for (int i = 0; i < weights.length; i++) {
            if (!(weights[i] > 0) || Double.isInfinite(weights[i])) {
                throw new IllegalArgumentException("data source " + sources.get(i).location() + " has weight "
                        + weights[i] + ": weights must be finite and > 0");
            }
            sum += weights[i];
            cumulative[i] = sum;
        }
        for (int i = 0; i < weights.length; i++) {
            cumulative[i] /= sum;
        }
    }

    /** The seed of source i's own stream; source 0 keeps the plain seed, so a one-dataset run's order depends on train.data.seed alone. */
    static long sourceSeed(long seed, int i) {
        return i == 0 ? seed : TrainingStream.mix(seed, i, 0x50C7L);
    }

    /** Which source draw {@code k} reads: a function of (seed, k), so a resumed run needs only k. */
    int sourceOf(long k) {
        if (cumulative.length == 1) {
            return 0;
        }
        double u = new SplittableRandom(TrainingStream.mix(seed, k, 0x1EAFL)).nextDouble();
        for (int i = 0; i < cumulative.length - 1; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }
}
