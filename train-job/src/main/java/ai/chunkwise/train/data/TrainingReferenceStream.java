package ai.chunkwise.train.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The rows {@link TrainingStream} would yield, as {@link RowReference}s: the same mixture of sources, the same
 * shard orders and shuffle-buffer draws, the same positions, without reading a row. The driver of a distributed
 * run walks it; executors read the rows it names.
 */
public final class TrainingReferenceStream {
    private final List<DatasetReferenceStream> streams;
    private final SourceMixture mixture;
    private long drawn;

    public TrainingReferenceStream(TrainingSources sources, long seed, boolean shuffle, int bufferRows,
                                   DataPosition start) {
        List<DatasetSource> opened = sources.sources();
        this.mixture = new SourceMixture(opened, sources.weights(), seed, start);
        this.drawn = start.drawn();
        this.streams = new ArrayList<>();
        for (int i = 0; i < opened.size(); i++) {
            streams.add(new DatasetReferenceStream(opened.get(i), SourceMixture.sourceSeed(seed, i), shuffle,
                    bufferRows, start.sources().get(i)));
        }
    }

    public RowReference next() {
        int s = mixture.sourceOf(drawn);
        drawn++;
        long ref = streams.get(s).next();
        return new RowReference(s, (int) (ref >>> 32), ref & 0xFFFFFFFFL);
    }

    /** The next {@code rows} references and the position right after them. */
    public PlannedBatch nextBatch(int rows) {
        List<RowReference> refs = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            refs.add(next());
        }
        return new PlannedBatch(refs, position());
    }

    /** The position right after the last reference returned. */
    public DataPosition position() {
        List<SourcePosition> positions = new ArrayList<>(streams.size());
        for (DatasetReferenceStream s : streams) {
            positions.add(s.position());
        }
        return new DataPosition(drawn, positions);
    }

    /** A batch's rows by reference, and where reading continues after it. */
    public record PlannedBatch(List<RowReference> rows, DataPosition next) {
    }
}
