package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.ShardEntry;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.model.LlamaConfig;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One dataset opened for streaming, on any Hadoop file system: its manifest read and its shard sizes and paths
 * checked at open, each shard's SHA-256 and schema checked when it is first read (never in a pre-pass, never twice
 * in a run). With a row limit, only the first {@code limit} rows in manifest order take part.
 */
public final class DatasetSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetSource.class);
    private final String location;
    private final DatasetReader reader;
    private final long[] rows;
    private final long totalRows;

    private DatasetSource(String location, DatasetReader reader, long[] rows, long totalRows) {
        this.location = location;
        this.reader = reader;
        this.rows = rows;
        this.totalRows = totalRows;
    }

    /**
     * @param limit           read only the first {@code limit} rows of the dataset (0: all)
     * @param verifyChecksums false skips the SHA-256 of shards (sizes, paths, schemas are still checked)
     */
    public static DatasetSource open(String location, Configuration conf, long limit, boolean verifyChecksums) {
        if (limit < 0) {
            throw new IllegalArgumentException("sequence limit must be >= 0 (0 = all), got " + limit);
        }
        DatasetReader reader = DatasetReader.open(location, conf, verifyChecksums
                ? DatasetReader.Verification.ON_FIRST_READ : DatasetReader.Verification.ON_FIRST_READ_NO_CHECKSUMS);
        List<ShardEntry> shards = reader.manifest().shards();
        long[] rows = new long[shards.size()];
        long left = limit == 0 ? Long.MAX_VALUE : limit;
        long total = 0;
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Math.min(shards.get(i).rows(), left);
            left -= rows[i];
            total += rows[i];
        }
        if (total == 0) {
            reader.close();
            throw new IllegalArgumentException("dataset " + reader.displayName() + " holds no sequence: nothing to "
                    + "train or evaluate on; check the tokenize job's input");
        }
        return new DatasetSource(reader.displayName(), reader, rows, total);
    }

    /**
     * Fails unless every token id of the dataset is a row of the model's embedding: the dataset's tokenizer
     * vocabulary must not be larger than the model's vocab_size. Warns when its sequences are longer than the
     * model's context (max_position_embeddings, or what its RoPE scaling extends it to).
     */
    public void requireFits(LlamaConfig model, String modelSource) {
        DatasetHeader header = header();
        int vocab = header.tokenizer().vocabSize();
        if (vocab > model.vocabSize()) {
            throw new IllegalArgumentException("dataset " + location + " was tokenized with " + header.tokenizer().name()
                    + " (vocabulary of " + vocab + " ids) but the model " + modelSource + " has vocab_size "
                    + model.vocabSize() + ": ids above " + (model.vocabSize() - 1) + " have no embedding. Use a model "
                    + "whose vocab_size is at least " + vocab + ", or re-tokenize with the model's tokenizer");
        }
        String longer = model.contextWarning(sequenceLength());
        if (longer != null) {
            LOG.warn("dataset {} (model {}): {}", location, modelSource, longer);
        }
    }

    /** The dataset as named in messages. */
    public String location() {
        return location;
    }

    public DatasetHeader header() {
        return reader.manifest().header();
    }

    /** Tokens per sequence. */
    public int sequenceLength() {
        return header().seqLen();
    }

    /** Rows taking part (after the limit). */
    public long size() {
        return totalRows;
    }

    int shardCount() {
        return rows.length;
    }

    /** Rows of shard {@code shard} taking part (after the limit). */
    long rowsOf(int shard) {
        return rows[shard];
    }

    DatasetReader.ShardRows shardRows(int shard) {
        return reader.shardSequences(shard);
    }

    /** The rows behind references (shard << 32 | row), reading each shard involved once, up to its last row needed. */
    Map<Long, PackedSequence> readRows(Collection<Long> refs) {
        Map<Integer, TreeSet<Long>> byShard = new TreeMap<>();
        for (long ref : refs) {
            byShard.computeIfAbsent((int) (ref >>> 32), s -> new TreeSet<>()).add(ref & 0xFFFFFFFFL);
        }
        Map<Long, PackedSequence> rows = new HashMap<>();
        for (Map.Entry<Integer, TreeSet<Long>> e : byShard.entrySet()) {
            long last = e.getValue().last();
            try (DatasetReader.ShardRows it = shardRows(e.getKey())) {
                for (long r = 0; r <= last; r++) {
                    PackedSequence row = it.next();
                    if (e.getValue().contains(r)) {
                        rows.put(((long) e.getKey() << 32) | r, row);
                    }
                }
            }
        }
        return rows;
    }

    /** The rows taking part, in manifest order (no shuffle), streamed record batch by record batch. */
    public java.util.Iterator<ai.chunkwise.pipeline.packing.PackedSequence> rowsInOrder() {
        return new java.util.Iterator<>() {
            private final java.util.Iterator<ai.chunkwise.pipeline.packing.PackedSequence> all = reader.sequences();
            private long read;

            @Override
            public boolean hasNext() {
                return read < totalRows && all.hasNext();
            }

            @Override
            public ai.chunkwise.pipeline.packing.PackedSequence next() {
                read++;
                return all.next();
            }
        };
    }

    /** Shards verified by this run so far. */
    public int verifiedShards() {
        return reader.verifiedShardCount();
    }

    @Override
    public void close() {
        reader.close();
    }
}
