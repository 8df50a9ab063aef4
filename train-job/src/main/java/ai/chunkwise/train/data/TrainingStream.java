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
    private final SourceMixture mixture;
    private long drawn;

    /**
     * @param sources    the opened datasets (this stream does not close them)
     * @param weights    one positive weight per source
     * @param bufferRows shuffle buffer of each source, in rows
     */
    public TrainingStream(List<DatasetSource> sources, double[] weights, long seed, boolean shuffle, int bufferRows,
                          DataPosition start) {
        this.mixture = new SourceMixture(sources, weights, seed, start);
        this.drawn = start.drawn();
        this.streams = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            streams.add(new DatasetStream(sources.get(i), SourceMixture.sourceSeed(seed, i), shuffle, bufferRows,
                    start.sources().get(i)));
        }
    }

    public PackedSequence next() {
        int s = mixture.sourceOf(drawn);
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
