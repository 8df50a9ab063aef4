package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.packing.PackedSequence;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The endless row stream of one dataset, shuffled without random access to the rows, as MosaicML Streaming does:
 * each epoch reads the shards in an order permuted from (seed, epoch), each shard sequentially record batch by
 * record batch, through a bounded {@link BufferedShuffle} that mixes rows across the shards being read. Memory: the
 * buffer's rows plus one Arrow record batch, whatever the dataset's size.
 *
 * <p>Exact resume: started at {@link SourcePosition} (e, i), the stream replays epoch e's first i draws on row
 * references only (shard, row: from the manifest's row counts, no I/O), then reads the rows the buffer holds at
 * that point again and continues the shard being read where the uninterrupted run was. The rows it then yields
 * are exactly the ones an uninterrupted stream yields after its i-th.
 */
final class DatasetStream {
    private final DatasetSource source;
    private final long seed;
    private final boolean shuffle;
    private final int bufferRows;
    private long epoch;
    private long emitted;
    private BufferedShuffle<PackedSequence> buffer;
    private RowCursor cursor;

    /**
     * @param seed       this source's seed (the shard order and buffer draws of epoch e come from (seed, e))
     * @param shuffle    false: shards in manifest order, rows in order (no buffer)
     * @param bufferRows shuffle buffer size in rows (ignored without shuffle)
     */
    DatasetStream(DatasetSource source, long seed, boolean shuffle, int bufferRows, SourcePosition start) {
        if (start.index() >= source.size()) {
            throw new IllegalArgumentException("data position " + start + " lies beyond the " + source.size()
                    + " sequences of " + source.location() + ": the checkpoint belongs to another dataset or limit");
        }
        this.source = source;
        this.seed = seed;
        this.shuffle = shuffle;
        this.bufferRows = shuffle ? bufferRows : 1;
        if (start.index() == 0) {
            startEpoch(start.epoch());
        } else {
            resume(start);
        }
    }

    /** The next row (epochs follow one another without end). */
    PackedSequence next() {
        PackedSequence row = buffer.next(cursor);
        if (row == null) {
            if (emitted != source.size()) {
                throw new IllegalStateException("epoch " + epoch + " of " + source.location() + " yielded " + emitted
                        + " rows, the manifest counts " + source.size());
            }
            cursor.close();
            startEpoch(epoch + 1);
            row = buffer.next(cursor);
        }
        emitted++;
        return row;
    }

    /** The position right after the last row returned. */
    SourcePosition position() {
        return emitted == source.size() ? new SourcePosition(epoch + 1, 0) : new SourcePosition(epoch, emitted);
    }

    void close() {
        cursor.close();
    }

    private void startEpoch(long e) {
        epoch = e;
        emitted = 0;
        buffer = new BufferedShuffle<>(bufferRows, bufferRandom(e));
        cursor = new RowCursor(shardOrder(e), 0, 0);
    }

    private void resume(SourcePosition at) {
        epoch = at.epoch();
        int[] order = shardOrder(epoch);
        RefCursor refs = new RefCursor(source, order);
        BufferedShuffle<Long> replay = new BufferedShuffle<>(bufferRows, bufferRandom(epoch));
        for (long i = 0; i < at.index(); i++) {
            replay.next(refs);
        }
        emitted = at.index();
        Map<Long, PackedSequence> held = source.readRows(replay.contents());
        buffer = replay.map(held::get);
        cursor = new RowCursor(order, refs.orderPos, refs.row);
    }

    private int[] shardOrder(long e) {
        return shardOrder(source, seed, shuffle, e);
    }

    private SplittableRandom bufferRandom(long e) {
        return bufferRandom(seed, e);
    }

    /** The shards of epoch e in reading order (those with rows taking part), permuted from (seed, e). */
    static int[] shardOrder(DatasetSource source, long seed, boolean shuffle, long e) {
        int n = 0;
        for (int s = 0; s < source.shardCount(); s++) {
            n += source.rowsOf(s) > 0 ? 1 : 0;
        }
        int[] shards = new int[n];
        for (int s = 0, k = 0; s < source.shardCount(); s++) {
            if (source.rowsOf(s) > 0) {
                shards[k++] = s;
            }
        }
        int[] permutation = new EpochOrder(n, seed, shuffle).permutation(e);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = shards[permutation[i]];
        }
        return order;
    }

    /** The generator of epoch e's shuffle-buffer draws. */
    static SplittableRandom bufferRandom(long seed, long e) {
        return new SplittableRandom(TrainingStream.mix(seed, e, 0x5EEDB0FL));
    }

    /** Rows of the shards in epoch order, sequentially; the input of the shuffle buffer. */
    private final class RowCursor implements Supplier<PackedSequence> {
        private final int[] order;
        private int orderPos;
        private DatasetReader.ShardRows current;
        private long row;
        private long limit;

        /** Positioned at row {@code row} of shard order[orderPos - 1] (or at the start when orderPos is 0). */
        RowCursor(int[] order, int orderPos, long row) {
            this.order = order;
            this.orderPos = orderPos;
            if (orderPos > 0) {
                int shard = order[orderPos - 1];
                current = source.shardRows(shard);
                limit = source.rowsOf(shard);
                for (this.row = 0; this.row < row; this.row++) {
                    current.next();
                }
            }
        }

        @Override
        public PackedSequence get() {
            while (true) {
                if (current != null && row < limit && current.hasNext()) {
                    row++;
                    return current.next();
                }
                if (current != null) {
                    current.close();
                    current = null;
                }
                if (orderPos == order.length) {
                    return null;
                }
                int shard = order[orderPos++];
                current = source.shardRows(shard);
                row = 0;
                limit = source.rowsOf(shard);
            }
        }

        void close() {
            if (current != null) {
                current.close();
                current = null;
            }
        }
    }

    /** The same walk as {@link RowCursor} over references (shard << 32 | row) from the manifest's counts: no I/O. */
    static final class RefCursor implements Supplier<Long> {
        private final DatasetSource source;
        private final int[] order;
        private int orderPos;
        private long row;
        private long limit;

        RefCursor(DatasetSource source, int[] order) {
            this.source = source;
            this.order = order;
        }

        @Override
        public Long get() {
            while (orderPos == 0 || row == limit) {
                if (orderPos == order.length) {
                    return null;
                }
                limit = source.rowsOf(order[orderPos++]);
                row = 0;
            }
            return ((long) order[orderPos - 1] << 32) | row++;
        }
    }
}
