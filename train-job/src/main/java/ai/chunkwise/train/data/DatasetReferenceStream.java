package ai.chunkwise.train.data;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The order in which one dataset's rows are drawn, as row references (shard << 32 | row) computed from the
 * manifest's row counts alone, without reading a row, as MosaicML Streaming orders them: each epoch walks the shards
 * in an order permuted from (seed, epoch), each shard front to back, through a bounded {@link BufferedShuffle} that
 * mixes rows across the shards being read.
 *
 * <p>{@link DatasetStream} reads the rows as their references enter the buffer; the driver of a distributed run
 * walks the references alone and lets each executor read its own rows. Started at {@link SourcePosition} (e, i),
 * the stream replays epoch e's first i draws (no I/O): the references it then yields, and the ones its buffer holds,
 * are exactly an uninterrupted stream's after its i-th draw.
 */
final class DatasetReferenceStream {
    private final DatasetSource source;
    private final long seed;
    private final boolean shuffle;
    private final int bufferRows;
    private long epoch;
    private long emitted;
    private BufferedShuffle<Long> buffer;
    private RefCursor cursor;
    private LongConsumer onEnter = ref -> { };

    /**
     * @param seed       this source's seed (the shard order and buffer draws of epoch e come from (seed, e))
     * @param shuffle    false: shards in manifest order, rows in order (no buffer)
     * @param bufferRows shuffle buffer size in rows (ignored without shuffle)
     */
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

    /** From now on, {@code listener} gets each reference as it enters the buffer: in shard order, front to back. */
    void onEnter(LongConsumer listener) {
        this.onEnter = listener;
    }

    /** The references the buffer holds now (a resumed stream's reader must read these rows first). */
    List<Long> buffered() {
        return buffer.contents();
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

    /** The position right after the last reference returned. */
    SourcePosition position() {
        return emitted == source.size() ? new SourcePosition(epoch + 1, 0) : new SourcePosition(epoch, emitted);
    }

    private void startEpoch(long e) {
        epoch = e;
        emitted = 0;
        buffer = new BufferedShuffle<>(bufferRows, new SplittableRandom(TrainingStream.mix(seed, e, 0x5EEDB0FL)));
        cursor = new RefCursor(shardOrder(e));
    }

    /** The shards of epoch e in reading order (those with rows taking part), permuted from (seed, e). */
    private int[] shardOrder(long e) {
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

    /** The buffer's input: every row reference of the epoch's shards in order, from the manifest's counts. */
    private final class RefCursor implements Supplier<Long> {
        private final int[] order;
        private int orderPos;
        private long row;
        private long limit;

        RefCursor(int[] order) {
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
            long ref = ((long) order[orderPos - 1] << 32) | row++;
            onEnter.accept(ref);
            return ref;
        }
    }
}
