package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetFormatTest {

    private static List<PackedSequence> readAll(Path dir) {
        List<PackedSequence> out = new ArrayList<>();
        try (DatasetReader r = DatasetReader.open(dir)) {
            r.sequences().forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void writeThenReadGivesTheSameRowsAcrossShardsAndBatches(@TempDir Path dir) throws Exception {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.CHUNK_ALIGNED, 40, 7);
        assertTrue(rows.size() > 10, "enough rows for several shards: " + rows.size());
        Manifest written = TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.CHUNK_ALIGNED), 4, 3);

        assertEquals(rows, readAll(dir));
        assertEquals((rows.size() + 3) / 4, written.shards().size());
        try (DatasetReader r = DatasetReader.open(dir)) {
            assertEquals(written, r.manifest());
            Iterator<PackedSequence> second = r.shardSequences(1);
            assertEquals(rows.subList(4, 8), toList(second));
        }
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary files remain");
        }
        long tokens = rows.stream().mapToLong(s -> s.seqLen() - s.padding()).sum();
        long padding = rows.stream().mapToLong(PackedSequence::padding).sum();
        assertEquals(new DatasetCounts(42, new TreeMap<>(Map.of("empty_text", 2L)), tokens, padding, rows.size()),
                written.counts());
    }

    @Test
    void emptyDatasetIsValid(@TempDir Path dir) {
        TestDatasets.write(dir, List.of(), TestDatasets.header(PackingPolicy.BFD), 4, 3);
        assertEquals(List.of(), readAll(dir));
    }

    @Test
    void shardWriterReportsExactlyTheBytesItWrote() throws Exception {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.CONCAT, 10, 3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ShardStats stats;
        try (ShardWriter w = new ShardWriter(out, TestDatasets.header(PackingPolicy.CONCAT), 2)) {
            rows.forEach(w::write);
            stats = w.finish();
        }
        byte[] bytes = out.toByteArray();
        assertEquals(bytes.length, stats.bytes());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), stats.sha256());
        assertEquals(rows.size(), stats.rows());
        assertEquals(rows.stream().mapToLong(PackedSequence::padding).sum(), stats.padding());
        assertEquals(rows.size() * 12L - stats.padding(), stats.tokens());
        // Arrow IPC file format: "ARROW1" magic at both ends
        assertEquals("ARROW1", new String(bytes, 0, 6, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("ARROW1", new String(bytes, bytes.length - 6, 6, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void shardWriterRejectsRowsOfAnotherLength() {
        ShardWriter w = new ShardWriter(new ByteArrayOutputStream(), TestDatasets.header(PackingPolicy.CONCAT), 2);
        try (w) {
            PackedSequence wrong = new PackedSequence(0, new int[5], new byte[5], new int[]{0}, new int[]{5}, false, 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(wrong));
            assertTrue(e.getMessage().contains("seq_len is 12"), e.getMessage());
        }
    }

    @Test
    void schemaMetadataRoundTripsWithTheDocumentedKeys() throws Exception {
        TokenizerInfo tok = new TokenizerInfo("tiktoken:cl100k_base", 100277, 100257, 100257, 100257, "ab".repeat(32));
        DatasetHeader h = new DatasetHeader(1, tok, 1024, 16, PackingPolicy.CHUNK_ALIGNED);
        Schema s = DatasetSchema.schema(h);
        assertEquals(h, DatasetSchema.headerOf(s));
        assertEquals(h, DatasetSchema.headerOf(Schema.fromJSON(s.toJson())));
        Map<String, String> expected = new HashMap<>();
        expected.put("chunkwise.format_version", "1");
        expected.put("chunkwise.tokenizer.name", "tiktoken:cl100k_base");
        expected.put("chunkwise.tokenizer.vocab_size", "100277");
        expected.put("chunkwise.tokenizer.bos_id", "100257");
        expected.put("chunkwise.tokenizer.eos_id", "100257");
        expected.put("chunkwise.tokenizer.pad_id", "100257");
        expected.put("chunkwise.tokenizer.vocab_hash", "ab".repeat(32));
        expected.put("chunkwise.chunk_size", "1024");
        expected.put("chunkwise.chunks_per_seq", "16");
        expected.put("chunkwise.seq_len", "16384");
        expected.put("chunkwise.packing", "chunk-aligned");
        assertEquals(expected, s.getCustomMetadata());
        assertEquals(List.of("seq_id", "input_ids", "loss_mask", "doc_starts", "doc_lengths", "continues_previous", "padding"),
                s.getFields().stream().map(f -> f.getName()).toList());
        assertEquals("FixedSizeList(16384)", s.findField("input_ids").getType().toString());
        assertEquals("Int(32, true)", s.findField("input_ids").getChildren().get(0).getType().toString());
        assertEquals("Int(8, true)", s.findField("loss_mask").getChildren().get(0).getType().toString());
        assertEquals("Int(64, true)", s.findField("seq_id").getType().toString());
    }

    @Test
    void headerOfNamesAMissingOrBadKey() {
        Schema s = DatasetSchema.schema(TestDatasets.header(PackingPolicy.BFD));
        Map<String, String> meta = new HashMap<>(s.getCustomMetadata());
        meta.remove("chunkwise.tokenizer.vocab_hash");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetSchema.headerOf(new Schema(s.getFields(), meta)));
        assertTrue(e.getMessage().contains("chunkwise.tokenizer.vocab_hash"), e.getMessage());
        meta.put("chunkwise.tokenizer.vocab_hash", "x");
        meta.put("chunkwise.seq_len", "13");
        e = assertThrows(DatasetException.class, () -> DatasetSchema.headerOf(new Schema(s.getFields(), meta)));
        assertTrue(e.getMessage().contains("chunkwise.seq_len"), e.getMessage());
        meta.put("chunkwise.seq_len", "12");
        meta.put("chunkwise.packing", "zigzag");
        e = assertThrows(DatasetException.class, () -> DatasetSchema.headerOf(new Schema(s.getFields(), meta)));
        assertTrue(e.getMessage().contains("zigzag"), e.getMessage());
        assertThrows(DatasetException.class, () -> DatasetSchema.headerOf(new Schema(s.getFields())));
    }

    @Test
    void manifestJsonRoundTripsWithSnakeCaseFields() throws Exception {
        SortedMap<String, Object> config = new TreeMap<>(Map.of("input", "s3a://bucket/docs", "seed", 17, "add_eos", true,
                "text_fields", List.of("text", "body")));
        Manifest m = new Manifest(1, "tokenize-job 0.1.0", TestDatasets.header(PackingPolicy.CONCAT), config,
                new DatasetCounts(10, new TreeMap<>(Map.of("invalid_utf8", 1L, "empty_text", 3L)), 500, 40, 45),
                List.of(new ShardEntry("part-00000.arrow", 20, 220, 4096, "aa".repeat(32)),
                        new ShardEntry("sub/part-00001.arrow", 25, 280, 5000, "bb".repeat(32))));
        String json = m.toJson();
        assertEquals(m, Manifest.fromJson(json, "test"));

        JsonNode root = new ObjectMapper().readTree(json);
        assertEquals(1, root.get("format_version").asInt());
        assertEquals("tokenize-job 0.1.0", root.get("created_by").asText());
        assertEquals(12, root.get("header").get("seq_len").asInt());
        assertEquals("concat", root.get("header").get("packing").asText());
        assertEquals("test-vocab", root.get("header").get("tokenizer").get("name").asText());
        assertEquals(10, root.get("counts").get("documents_read").asLong());
        assertEquals(3, root.get("counts").get("documents_skipped").get("empty_text").asLong());
        assertEquals(40, root.get("counts").get("padding_tokens").asLong());
        assertEquals("sub/part-00001.arrow", root.get("shards").get(1).get("path").asText());
        assertEquals(5000, root.get("shards").get(1).get("bytes").asLong());
        assertEquals("s3a://bucket/docs", root.get("config").get("input").asText());
    }

    @Test
    void manifestErrorsNameTheSourceAndField() {
        DatasetException e = assertThrows(DatasetException.class, () -> Manifest.fromJson("{\"format_version\": 1}", "/x/manifest.json"));
        assertTrue(e.getMessage().contains("/x/manifest.json") && e.getMessage().contains("'header'"), e.getMessage());
        e = assertThrows(DatasetException.class, () -> Manifest.fromJson("{not json", "/x/manifest.json"));
        assertTrue(e.getMessage().contains("/x/manifest.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
        String json = new Manifest(1, "t", TestDatasets.header(PackingPolicy.CONCAT), new TreeMap<>(),
                new DatasetCounts(0, new TreeMap<>(), 0, 0, 0), List.of()).toJson().replace("\"rows\"", "\"rowz\"");
        String withShard = json.replace("\"shards\" : [ ]", "\"shards\" : [ {\"path\": \"a\", \"rowz\": 1, \"tokens\": 1, \"bytes\": 1, \"sha256\": \"x\"} ]");
        e = assertThrows(DatasetException.class, () -> Manifest.fromJson(withShard, "m.json"));
        assertTrue(e.getMessage().contains("'rows'"), e.getMessage());
    }

    @Test
    void manifestIsWrittenAtomically(@TempDir Path dir) throws Exception {
        Manifest m = new Manifest(1, "t", TestDatasets.header(PackingPolicy.CONCAT), new TreeMap<>(),
                new DatasetCounts(0, new TreeMap<>(), 0, 0, 0), List.of());
        m.writeAtomically(dir);
        assertEquals(m.toJson(), Files.readString(dir.resolve("manifest.json")));
        assertFalse(Files.exists(dir.resolve("manifest.json.tmp")));
    }

    @Test
    void refusesToOverwriteAnExistingDataset(@TempDir Path dir) {
        TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 3, 1), TestDatasets.header(PackingPolicy.CONCAT), 4, 2);
        DatasetException e = assertThrows(DatasetException.class,
                () -> new LocalDatasetWriter(dir, TestDatasets.header(PackingPolicy.CONCAT), 4, 2));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    }

    private static <T> List<T> toList(Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
