package ai.chunkwise.train.data;

import java.util.Collections;
import java.util.List;

/**
 * Where training stands in its data: {@code drawn} rows taken so far from the mixture of sources (the source of
 * draw k is a function of (seed, k)), and each source's own position. Saved in checkpoints (trainer_state.json),
 * so a resumed run reads exactly the rows an uninterrupted run would have read next, mid-epoch included.
 */
public record DataPosition(long drawn, List<SourcePosition> sources) {

    public DataPosition {
        if (drawn < 0 || sources.isEmpty()) {
            throw new IllegalArgumentException("data position needs drawn >= 0 and at least one source, got "
                    + drawn + ", " + sources);
        }
        sources = List.copyOf(sources);
    }

    /** The start of training over {@code sourceCount} sources. */
    public static DataPosition start(int sourceCount) {
        return new DataPosition(0, Collections.nCopies(sourceCount, SourcePosition.START));
    }

    /** The first source's epoch (the only source's, in a single-dataset run), for progress reports. */
    public long epoch() {
        return sources.get(0).epoch();
    }
}
