package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.packing.PackedSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The rows training reads: one dataset's {@link DatasetStream}, or several interleaved with weights as Hugging Face's
 * {@code interleave_datasets(probabilities=...)} does: draw k takes its row from source s with probability
 * weight_s / sum(weights), the choice a function of (seed, k) alone. Every source streams on through its own
 * epochs (none is exhausted), so the mixture is endless, deterministic and resumable from a {@link DataPosition}.
 */
public final class TrainingStream implements AutoCloseable {
    private final List<DatasetStream> streams;
    private final double[] cumulative;
    private final long seed;
    private long drawn;

    /**
     * @param sources    the opened datasets (this stream does not close them)
     * @param weights    one positive weight per source
     * @param bufferRows shuffle buffer of each source, in rows
     */
    public TrainingStream(List<DatasetSource> sources, double[] weights, long seed, boolean shuffle, int bufferRows,
                          DataPosition start) {
        if (sources.size() != weights.length || sources.isEmpty()) {
            throw new IllegalArgumentException(sources.size() + " sources but " + weights.length + " weights");
        }
        if (start.sources().size() != sources.size()) {
            throw new IllegalArgumentException("the checkpoint's data position covers " + start.sources().size()
                    + " data source(s) but the configuration names " + sources.size()
                    + ": resume with the run's own train.data settings");
        }
        this.seed = seed;
        this.drawn = start.drawn();
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
        this.streams = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            // source 0 keeps the plain seed, so a one-dataset run's order depends on train.data.seed alone
            long sourceSeed = i == 0 ? seed : mix(seed, i, 0x50C7L);
            streams.add(new DatasetStream(sources.get(i), sourceSeed, shuffle, bufferRows, start.sources().get(i)));
        }
    }

    public PackedSequence next() {
        int s = sourceOf(drawn);
        drawn++;
        return streams.get(s).next();
    }

    /** The position right after the last row returned. */
    public DataPosition position() {
        List<SourcePosition> positions = new ArrayList<>(streams.size());
        for (DatasetStream s : streams) {
            positions.add(s.position());
        }
        return new DataPosition(drawn, positions);
    }

    /** Which source draw {@code k} reads: a function of (seed, k), so a resumed run needs only k. */
    int sourceOf(long k) {
        if (cumulative.length == 1) {
            return 0;
        }
        double u = new SplittableRandom(mix(seed, k, 0x1EAFL)).nextDouble();
        for (int i = 0; i < cumulative.length - 1; i++) {
            if (u < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }

    @Override
    public void close() {
        streams.forEach(DatasetStream::close);
    }

    /** A seed from several numbers; SplittableRandom's mixing decorrelates nearby inputs. */
    static long mix(long a, long b, long c) {
        long h = new SplittableRandom(a).nextLong() ^ b * 0x9E3779B97F4A7C15L;
        h = new SplittableRandom(h).nextLong() ^ c * 0xC2B2AE3D27D4EB4FL;
        return new SplittableRandom(h).nextLong();
    }
}
