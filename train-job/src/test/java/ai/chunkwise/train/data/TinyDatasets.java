package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.format.DatasetHeader;
import ai.chunkwise.pipeline.format.LocalDatasetWriter;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.model.LlamaConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** Small datasets and models for the data and training tests. */
public final class TinyDatasets {
    public static final int VOCAB = 32;
    public static final int CHUNK = 8;
    public static final int CHUNKS = 2;
    public static final TokenizerInfo TOKENIZER = new TokenizerInfo("test-32", VOCAB, 1, 2, 0,
            "00000000000000000000000000000000000000000000000000000000000000aa");

    private TinyDatasets() {
    }

    /**
     * {@code rows} rows of 16 tokens, each holding two documents: [0, 9) and [9, 16); row r's tokens cycle through
     * a short pattern shifted by r, so a model can learn it. seq_id = 100 + r.
     */
    public static List<PackedSequence> rows(int rows) {
        List<PackedSequence> out = new ArrayList<>();
        int len = CHUNK * CHUNKS;
        for (int r = 0; r < rows; r++) {
            int[] ids = new int[len];
            byte[] mask = new byte[len];
            for (int j = 0; j < len; j++) {
                ids[j] = 3 + (j + r) % 5;
                // a target iff j and j-1 lie in the same document
                mask[j] = (byte) (j == 0 || j == 9 ? 0 : 1);
            }
            out.add(new PackedSequence(100 + r, ids, mask, new int[] {0, 9}, new int[] {9, 7}, false, 0));
        }
        return out;
    }

    public static Path write(Path dir, List<PackedSequence> rows, TokenizerInfo tokenizer) {
        DatasetHeader header = new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, tokenizer, CHUNK, CHUNKS,
                PackingPolicy.CHUNK_ALIGNED);
        try (LocalDatasetWriter w = new LocalDatasetWriter(dir, header, 4, 2)) {
            rows.forEach(w::write);
            w.finish("train-job test", new TreeMap<>(), rows.size(), new TreeMap<>());
        }
        return dir;
    }

    public static Path write(Path dir, int rows) {
        return write(dir, rows(rows), TOKENIZER);
    }

    /** A 2-layer Llama with grouped-query attention, small enough for a step in a fraction of a second. */
    public static LlamaConfig tinyModel() {
        return new LlamaConfig(VOCAB, 16, 32, 2, 2, 1, 8, 1e-5, 10000.0, null, false, 64, 1, 2);
    }

    /** {@link #tinyModel()}'s config.json written into {@code dir}, as {@code train --init-config} takes it. */
    public static Path modelConfig(Path dir) {
        Path file = dir.resolve("config.json");
        HfCheckpoint.writeConfig(tinyModel(), file);
        return file;
    }
}
