package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class DatasetInspectorTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The documented digest, computed here independently: input_ids as little-endian int32, row by row. */
    private static String expectedDigest(List<PackedSequence> rows) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        for (PackedSequence s : rows) {
            for (int id : s.inputIds()) {
                d.update(new byte[]{(byte) id, (byte) (id >>> 8), (byte) (id >>> 16), (byte) (id >>> 24)});
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    @Test
    void summaryReportsTheManifestAndTheContentDigest(@TempDir Path dir) throws Exception {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.BFD, 25, 5);
        Manifest m = TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.BFD), 3, 2);
        JsonNode s = JSON.readTree(DatasetInspector.summaryJson(dir));

        long padding = rows.stream().mapToLong(PackedSequence::padding).sum();
        assertEquals(expectedDigest(rows), s.get("content_digest").asText());
        assertEquals((double) padding / (rows.size() * 12L), s.get("padding_fraction").asDouble(), 1e-15);
        assertEquals(12, s.get("seq_len").asInt());
        assertEquals(4, s.get("chunk_size").asInt());
        assertEquals("bfd", s.get("packing").asText());
        assertEquals("test-vocab", s.get("tokenizer").get("name").asText());
        assertEquals(1000, s.get("tokenizer").get("vocab_size").asInt());
        assertEquals(42, s.get("counts").get("documents_read").asLong());
        assertEquals(2, s.get("counts").get("documents_skipped").get("empty_text").asLong());
        assertEquals(rows.size(), s.get("counts").get("sequences").asLong());
        assertEquals(rows.size(), s.get("rows_read").asLong());
        assertEquals(m.shards().size(), s.get("shard_count").asInt());
        assertEquals(m.shards().get(0).sha256(), s.get("shards").get(0).get("sha256").asText());
        assertEquals(rows.stream().mapToLong(r -> r.docStarts().length).sum(), s.get("document_segments").asLong());
        long targets = 0;
        for (PackedSequence r : rows) {
            for (byte b : r.lossMask()) {
                targets += b;
            }
        }
        assertEquals(targets, s.get("loss_targets").asLong());
    }

    @Test
    void digestDependsOnlyOnRowsNotOnSharding(@TempDir Path a, @TempDir Path b, @TempDir Path c) throws Exception {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.CONCAT, 20, 9);
        TestDatasets.write(a, rows, TestDatasets.header(PackingPolicy.CONCAT), 2, 1);
        TestDatasets.write(b, rows, TestDatasets.header(PackingPolicy.CONCAT), 100, 64);
        TestDatasets.write(c, TestDatasets.rows(PackingPolicy.CONCAT, 20, 10), TestDatasets.header(PackingPolicy.CONCAT), 2, 1);
        String da = JSON.readTree(DatasetInspector.summaryJson(a)).get("content_digest").asText();
        String db = JSON.readTree(DatasetInspector.summaryJson(b)).get("content_digest").asText();
        String dc = JSON.readTree(DatasetInspector.summaryJson(c)).get("content_digest").asText();
        assertEquals(da, db);
        assertNotEquals(da, dc);
    }
}
