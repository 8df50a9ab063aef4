package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.packing.PackedSequence;

import java.util.HashMap;
import java.util.Map;

/**
 * The endless row stream of one dataset in {@link DatasetReferenceStream}'s order: each row is read when its
 * reference enters the shuffle buffer, so the shards are read sequentially, record batch by record batch, and
 * memory holds the buffer's rows plus one Arrow record batch, whatever the dataset's size.
 *
 * <p>Exact resume: started at {@link SourcePosition} (e, i), the reference stream replays the draws without I/O;
 * the rows its buffer then holds are read again, and the shard being read continues where the uninterrupted run
 * was. The rows it then yields are exactly the ones an uninterrupted stream yields after its i-th.
 */
final class DatasetStream {
    private final DatasetSource source;
    private final DatasetReferenceStream refs;
    private final Map<Long, PackedSequence> held;
    private DatasetReader.ShardRows shardRows;
    private int shard = -1;
    private long nextRow;

    /**
     * @param seed       this source's seed (the shard order and buffer draws of epoch e come from (seed, e))
     * @param shuffle    false: shards in manifest order, rows in order (no buffer)
     * @param bufferRows shuffle buffer size in rows (ignored without shuffle)
     */
    DatasetStream(DatasetSource source, long seed, boolean shuffle, int bufferRows, SourcePosition start) {
        this.source = source;
        this.refs = new DatasetReferenceStream(source, seed, shuffle, bufferRows, start);
        this.held = new HashMap<>(source.readRows(refs.buffered()));
        refs.onEnter(this::read);
    }

    /** The next row (epochs follow one another without end). */
    PackedSequence next() {
        return held.remove(refs.next());
    }

    /** The position right after the last row returned. */
    SourcePosition position() {
        return refs.position();
    }

    void close() {
        if (shardRows != null) {
            shardRows.close();
            shardRows = null;
        }
    }

    /**
     * Reads the row {@code ref} names into {@link #held}. References enter the buffer shard by shard, front to back,
     * so it is the open shard's next row, the first row of another shard, or (right after a resume) a later row of
     * the shard the uninterrupted run was reading.
     */
    private void read(long ref) {
        int refShard = (int) (ref >>> 32);
        long row = ref & 0xFFFFFFFFL;
        if (refShard != shard || row < nextRow) {
            close();
            shardRows = source.shardRows(refShard);
            shard = refShard;
            nextRow = 0;
        }
        for (; nextRow < row; nextRow++) {
            nextRowOfShard();
        }
        held.put(ref, nextRowOfShard());
        nextRow++;
    }

    private PackedSequence nextRowOfShard() {
        if (!shardRows.hasNext()) {
            throw new IllegalStateException("shard " + shard + " of " + source.location() + " ended after " + nextRow
                    + " rows, its manifest counts " + source.rowsOf(shard) + ": the dataset is damaged; re-run "
                    + "tokenize-job");
        }
        return shardRows.next();
    }
}
