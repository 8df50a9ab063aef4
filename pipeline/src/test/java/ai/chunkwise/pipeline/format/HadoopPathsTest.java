package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.cli.PipelineCli;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Datasets named by Hadoop file system URIs, and per-shard verification when a shard is first read. */
class HadoopPathsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private List<PackedSequence> write() {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.CONCAT, 30, 11);
        TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        return rows;
    }

    @Test
    void inspectAcceptsPlainPathsAndBothFileUriForms() throws Exception {
        List<PackedSequence> rows = write();
        // "file:/x" is how Hadoop (and so tokenize-job) prints a qualified local path; "file:///x" is the URI form
        for (String location : List.of(dir.toString(), "file:" + dir, "file://" + dir)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = PipelineCli.run(new PrintStream(out, true), new PrintStream(err, true), "inspect", location);
            assertEquals(0, code, location + ": " + err.toString(StandardCharsets.UTF_8));
            JsonNode summary = JSON.readTree(out.toString(StandardCharsets.UTF_8));
            assertEquals(rows.size(), summary.get("rows_read").asInt(), location);
            assertEquals(dir.toString(), summary.get("dataset").asText(), "a local dataset is shown as a plain path");
        }
    }

    @Test
    void aMissingDatasetUriIsNamedAsGiven() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PipelineCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true),
                "inspect", "file://" + dir.resolve("nope"));
        assertEquals(PipelineCli.EXIT_BAD_DATASET, code);
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains(dir.resolve("nope") + " does not exist"), e);
        assertTrue(!e.contains("file:/"), "no mangled cwd-relative path: " + e);
    }

    @Test
    void onFirstReadVerifiesEachShardOnceBeforeItsRowsAndNamesACorruptOne() throws Exception {
        List<PackedSequence> rows = write();
        Manifest m;
        try (DatasetReader r = DatasetReader.open(dir.toString(), new Configuration(), DatasetReader.Verification.ON_FIRST_READ)) {
            m = r.manifest();
            assertEquals(0, r.verifiedShardCount(), "no pre-pass over the shards at open");
            Iterator<PackedSequence> first = r.shardSequences(1);
            assertEquals(rows.get(5).seqId(), first.next().seqId());
            assertEquals(1, r.verifiedShardCount());
            r.shardSequences(1).next();
            assertEquals(1, r.verifiedShardCount(), "read again in the same run: not re-hashed");
        }
        Path shard2 = dir.resolve(m.shards().get(2).path());
        try (RandomAccessFile f = new RandomAccessFile(shard2.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x10);
        }
        try (DatasetReader r = DatasetReader.open("file://" + dir, new Configuration(), DatasetReader.Verification.ON_FIRST_READ)) {
            List<Long> read = new ArrayList<>();
            Iterator<PackedSequence> it = r.sequences();
            DatasetException e = assertThrows(DatasetException.class, () -> {
                while (it.hasNext()) {
                    read.add(it.next().seqId());
                }
            });
            assertTrue(e.getMessage().contains(shard2.toString()) && e.getMessage().contains("checksum"), e.getMessage());
            assertEquals(10, read.size(), "the rows of shards 0 and 1 only: none of the corrupt shard's");
        }
    }
}
