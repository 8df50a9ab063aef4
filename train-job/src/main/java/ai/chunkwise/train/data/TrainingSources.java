package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.model.LlamaConfig;
import org.apache.hadoop.conf.Configuration;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The datasets of a run, opened for streaming and checked to fit together: one tokenizer (vocabulary SHA-256)
 * and one sequence length across all of them, and a shuffle buffer that fits the heap. Nothing is read but the
 * manifests and the shards' sizes.
 */
public final class TrainingSources implements AutoCloseable {
    /** Bytes a buffered row holds per token: int32 id + int8 loss mask (PackedSequence). */
    static final long BYTES_PER_TOKEN = 5;

    private final List<DatasetSource> sources;
    private final double[] weights;

    private TrainingSources(List<DatasetSource> sources, double[] weights) {
        this.sources = sources;
        this.weights = weights;
    }

    public static TrainingSources open(List<SourceSpec> specs, Configuration conf, long limit, boolean verifyChecksums) {
        List<DatasetSource> opened = new ArrayList<>();
        try {
            for (SourceSpec spec : specs) {
                opened.add(DatasetSource.open(spec.path(), conf, limit, verifyChecksums));
            }
            DatasetSource first = opened.get(0);
            for (DatasetSource other : opened.subList(1, opened.size())) {
                DatasetHeader a = first.header();
                DatasetHeader b = other.header();
                if (!a.tokenizer().vocabHash().equals(b.tokenizer().vocabHash())) {
                    throw new IllegalArgumentException("datasets " + first.location() + " (tokenizer " + a.tokenizer().name()
                            + ", vocabulary SHA-256 " + a.tokenizer().vocabHash() + ") and " + other.location() + " (tokenizer "
                            + b.tokenizer().name() + ", vocabulary SHA-256 " + b.tokenizer().vocabHash() + ") were tokenized "
                            + "differently: the same id would mean different tokens. Re-tokenize them with one tokenizer");
                }
                if (a.seqLen() != b.seqLen()) {
                    throw new IllegalArgumentException("datasets " + first.location() + " and " + other.location()
                            + " hold sequences of " + a.seqLen() + " and " + b.seqLen() + " tokens: a batch needs one "
                            + "length. Re-tokenize them with the same chunk-size x chunks-per-seq");
                }
            }
        } catch (RuntimeException e) {
            opened.forEach(DatasetSource::close);
            throw e;
        }
        double[] weights = specs.stream().mapToDouble(SourceSpec::weight).toArray();
        return new TrainingSources(List.copyOf(opened), weights);
    }

    /**
     * Fails unless the shuffle buffers (one per source) take at most a quarter of the heap: their rows are the
     * streaming trainer's only memory that grows with a setting rather than with the model.
     */
    public void requireBufferFits(int bufferRows, boolean shuffle, long maxHeap) {
        long bytes = (shuffle ? bufferRows : 1) * (long) sequenceLength() * BYTES_PER_TOKEN * sources.size();
        if (bytes > maxHeap / 4) {
            throw new IllegalArgumentException("train.data.shuffle-buffer = " + bufferRows + " rows of " + sequenceLength()
                    + " tokens x " + sources.size() + " source(s) need about " + (bytes >> 20) + " MiB, more than a quarter "
                    + "of the heap (" + (maxHeap >> 20) + " MiB): lower train.data.shuffle-buffer or raise -Xmx");
        }
    }

    public void requireFits(LlamaConfig model, String modelSource) {
        sources.forEach(s -> s.requireFits(model, modelSource));
    }

    public List<DatasetSource> sources() {
        return sources;
    }

    public double[] weights() {
        return weights.clone();
    }

    public DatasetHeader header() {
        return sources.get(0).header();
    }

    public int sequenceLength() {
        return sources.get(0).sequenceLength();
    }

    /** Rows of all sources together (after the limit). */
    public long size() {
        return sources.stream().mapToLong(DatasetSource::size).sum();
    }

    /**
     * The rows behind {@code refs}, in their order. Each shard involved is read once, sequentially up to the last
     * row needed (the shards are Arrow files of record batches, read front to back).
     */
    public List<PackedSequence> readRows(List<RowReference> refs) {
        List<PackedSequence> rows = new ArrayList<>(refs.size());
        Map<Integer, List<Long>> bySource = new TreeMap<>();
        for (RowReference r : refs) {
            if (r.source() < 0 || r.source() >= sources.size()) {
                throw new IllegalArgumentException("row reference " + r + " names source " + r.source() + " of "
                        + sources.size());
            }
            bySource.computeIfAbsent(r.source(), k -> new ArrayList<>()).add(((long) r.shard() << 32) | r.row());
        }
        Map<Integer, Map<Long, PackedSequence>> read = new HashMap<>();
        bySource.forEach((source, keys) -> read.put(source, sources.get(source).readRows(keys)));
        for (RowReference r : refs) {
            PackedSequence row = read.get(r.source()).get(((long) r.shard() << 32) | r.row());
            if (row == null) {
                throw new IllegalArgumentException("row reference " + r + " lies beyond the rows of "
                        + sources.get(r.source()).location() + ": the dataset changed since the run planned its batches");
            }
            rows.add(row);
        }
        return rows;
    }

    /** A new stream over these sources starting at {@code start}. */
    public TrainingStream stream(long seed, boolean shuffle, int bufferRows, DataPosition start) {
        return new TrainingStream(sources, weights, seed, shuffle, bufferRows, start);
    }

    @Override
    public void close() {
        sources.forEach(DatasetSource::close);
    }
}
