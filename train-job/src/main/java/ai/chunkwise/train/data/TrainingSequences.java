package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.model.LlamaConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The rows of a dataset, verified (manifest, sizes, SHA-256, schema) and held in memory for random access in
 * any epoch order. About 5 bytes per token (int32 id + int8 mask): the training sets this trainer is meant for
 * (thousands of long sequences) fit; a larger dataset fails up front with the estimate, never mid-run.
 */
public final class TrainingSequences {
    private final Path directory;
    private final DatasetHeader header;
    private final List<PackedSequence> rows;

    private TrainingSequences(Path directory, DatasetHeader header, List<PackedSequence> rows) {
        this.directory = directory;
        this.header = header;
        this.rows = rows;
    }

    /**
     * Opens and verifies {@code datasetDir} and loads its first {@code limit} rows (0: all of them).
     *
     * @param verifyChecksums false skips re-hashing the shards (sizes, paths, schemas are still checked)
     */
    public static TrainingSequences load(Path datasetDir, long limit, boolean verifyChecksums) {
        if (limit < 0) {
            throw new IllegalArgumentException("sequence limit must be >= 0 (0 = all), got " + limit);
        }
        try (DatasetReader reader = DatasetReader.open(datasetDir, verifyChecksums)) {
            Manifest manifest = reader.manifest();
            long available = manifest.counts().sequences();
            long wanted = limit == 0 ? available : Math.min(limit, available);
            if (wanted == 0) {
                throw new IllegalArgumentException("dataset " + reader.directory() + " holds no sequence: nothing to "
                        + "train or evaluate on; check the tokenize job's input");
            }
            long bytes = wanted * manifest.header().seqLen() * 5L;
            long heap = Runtime.getRuntime().maxMemory();
            if (bytes > heap / 2) {
                throw new IllegalArgumentException("dataset " + reader.directory() + ": " + wanted + " sequences of "
                        + manifest.header().seqLen() + " tokens need about " + (bytes >> 20) + " MiB in memory, more "
                        + "than half the heap (" + (heap >> 20) + " MiB): raise -Xmx or limit the sequences read");
            }
            List<PackedSequence> rows = new ArrayList<>((int) wanted);
            Iterator<PackedSequence> it = reader.sequences();
            while (rows.size() < wanted && it.hasNext()) {
                rows.add(it.next());
            }
            return new TrainingSequences(reader.directory(), manifest.header(), List.copyOf(rows));
        }
    }

    /**
     * Fails unless every token id of the dataset is a row of the model's embedding: the dataset's tokenizer
     * vocabulary must not be larger than the model's vocab_size.
     */
    public void requireFits(LlamaConfig model, String modelSource) {
        int vocab = header.tokenizer().vocabSize();
        if (vocab > model.vocabSize()) {
            throw new IllegalArgumentException("dataset " + directory + " was tokenized with " + header.tokenizer().name()
                    + " (vocabulary of " + vocab + " ids) but the model " + modelSource + " has vocab_size "
                    + model.vocabSize() + ": ids above " + (model.vocabSize() - 1) + " have no embedding. Use a model "
                    + "whose vocab_size is at least " + vocab + ", or re-tokenize with the model's tokenizer");
        }
    }

    public Path directory() {
        return directory;
    }

    public DatasetHeader header() {
        return header;
    }

    public int size() {
        return rows.size();
    }

    public PackedSequence get(int index) {
        return rows.get(index);
    }

    /** Tokens per sequence. */
    public int sequenceLength() {
        return header.seqLen();
    }
}
