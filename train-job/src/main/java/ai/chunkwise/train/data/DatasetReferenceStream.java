package ai.chunkwise.train.data;

/**
 * The draws of one dataset's {@link DatasetStream} as row references (shard << 32 | row), computed from the
 * manifest's row counts alone: the same shard order and shuffle-buffer draws, without reading a row. A trainer
 * that hands rows out to other machines walks this stream and lets each machine read its own rows.
 */
final class DatasetReferenceStream {
    private final DatasetSource source;
    private final long seed;
    private final boolean shuffle;
    private final int bufferRows;
    private long epoch;
    private long emitted;
    private BufferedShuffle<Long> buffer;
    private DatasetStream.RefCursor cursor;

    DatasetReferenceStream(DatasetSource source, long seed, boolean shuffle, int bufferRows, SourcePosition start) {
        if (start.index() >= source.size()) {
            throw new IllegalArgumentException("data position " + start + " lies beyond the " + source.size()
                    + " sequences of " + source.location() + ": the checkpoint belongs to another dataset or limit");
        }
        this.source = source;
        this.seed = seed;
        this.shuffle = shuffle;
        this.bufferRows = shuffle ? bufferRows : 1;
        startEpoch(start.epoch());
        for (long i = 0; i < start.index(); i++) {
            next();
        }
    }

    /** The reference of the next row (epochs follow one another without end). */
    long next() {
        Long ref = buffer.next(cursor);
        if (ref == null) {
            startEpoch(epoch + 1);
            ref = buffer.next(cursor);
        }
        emitted++;
        return ref;
    }

    /** The position right after the last reference returned, as {@link DatasetStream#position()} gives it. */
    SourcePosition position() {
        return emitted == source.size() ? new SourcePosition(epoch + 1, 0) : new SourcePosition(epoch, emitted);
    }

    private void startEpoch(long e) {
        epoch = e;
        emitted = 0;
        buffer = new BufferedShuffle<>(bufferRows, DatasetStream.bufferRandom(seed, e));
        cursor = new DatasetStream.RefCursor(source, DatasetStream.shardOrder(source, seed, shuffle, e));
    }
}
