package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.packing.SequencePacker;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;

/** Small datasets written the way a job writes them, for format and CLI tests. */
public final class TestDatasets {

    public static final TokenizerInfo TOKENIZER = new TokenizerInfo("test-vocab", 1000, 1, 2, 0,
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

    private TestDatasets() {
    }

    /** Rows of a seeded corpus packed chunk-aligned (chunk 4 x 3 = 12 tokens). */
    public static List<PackedSequence> rows(PackingPolicy policy, int documents, long seed) {
        PackingSpec spec = new PackingSpec(4, 3, policy, true, true, TOKENIZER);
        Random random = new Random(seed);
        List<PackedSequence> rows = new ArrayList<>();
        SequencePacker packer = SequencePacker.create(spec, rows::add);
        for (int d = 0; d < documents; d++) {
            int[] doc = new int[1 + random.nextInt(30)];
            for (int i = 0; i < doc.length; i++) {
                doc[i] = 3 + random.nextInt(997);
            }
            packer.accept(doc);
        }
        packer.finish();
        return rows;
    }

    public static DatasetHeader header(PackingPolicy policy) {
        return new DatasetHeader(DatasetHeader.CURRENT_FORMAT_VERSION, TOKENIZER, 4, 3, policy);
    }

    public static Manifest write(Path dir, List<PackedSequence> rows, DatasetHeader header, long rowsPerShard, int rowsPerBatch) {
        SortedMap<String, Object> config = new TreeMap<>();
        config.put("input", "/data/in");
        config.put("chunk_size", header.chunkSize());
        SortedMap<String, Long> skipped = new TreeMap<>();
        skipped.put("empty_text", 2L);
        try (LocalDatasetWriter w = new LocalDatasetWriter(dir, header, rowsPerShard, rowsPerBatch)) {
            rows.forEach(w::write);
            return w.finish("chunkwise test", config, 42, skipped);
        }
    }
}
