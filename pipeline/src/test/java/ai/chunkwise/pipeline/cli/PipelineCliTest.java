package ai.chunkwise.pipeline.cli;

import ai.chunkwise.pipeline.format.TestDatasets;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineCliTest {

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = PipelineCli.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void inspectPrintsTheSummaryJson(@TempDir Path dir) throws Exception {
        var rows = TestDatasets.rows(PackingPolicy.CHUNK_ALIGNED, 12, 3);
        TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.CHUNK_ALIGNED), 4, 2);
        Result r = run("inspect", dir.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(rows.size(), json.get("counts").get("sequences").asLong());
        assertEquals("chunk-aligned", json.get("packing").asText());
        assertEquals(64, json.get("content_digest").asText().length());
        assertEquals("", r.err());
    }

    @Test
    void corruptDatasetExitsNonZeroWithOneLine(@TempDir Path dir) throws Exception {
        var m = TestDatasets.write(dir, TestDatasets.rows(PackingPolicy.CONCAT, 12, 3), TestDatasets.header(PackingPolicy.CONCAT), 4, 2);
        Path shard = dir.resolve(m.shards().get(0).path());
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        Result r = run("inspect", dir.toString());
        assertEquals(PipelineCli.EXIT_BAD_DATASET, r.exit());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: ") && r.err().contains(shard.toString()) && r.err().contains("truncated"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());

        Result verbose = run("inspect", "--verbose", dir.toString());
        assertEquals(PipelineCli.EXIT_BAD_DATASET, verbose.exit());
        assertTrue(verbose.err().contains("\tat ai.chunkwise.pipeline.format.DatasetReader"), verbose.err());
    }

    @Test
    void anEmptyDirectoryIsNamedAsSuch(@TempDir Path dir) {
        Result r = run("inspect", dir.toString());
        assertEquals(PipelineCli.EXIT_BAD_DATASET, r.exit());
        assertTrue(r.err().contains(dir + " is not a dataset (no manifest.json): it is an empty directory"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void usageErrorsAreReportedByPicocli() {
        Result r = run("inspect");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("<dataset>"), r.err());
        assertEquals(2, run("frobnicate").exit());
    }
}
