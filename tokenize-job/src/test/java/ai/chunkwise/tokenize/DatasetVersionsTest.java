package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetException;
import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.pipeline.format.Manifest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dataset versions: incremental runs add only new input files as a new version, --overwrite publishes a complete
 * new version without destroying the old one first, and an input with nothing valid publishes nothing. The
 * expected documents are the input lines themselves (the byte tokenizer's ids are the UTF-8 bytes).
 */
class DatasetVersionsTest {
    @TempDir
    Path tmp;

    private static void lines(Path file, String prefix, int n) throws IOException {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(prefix + " document " + i + " " + "x".repeat(i % 7 * 5));
        }
        Files.createDirectories(file.getParent());
        Files.write(file, l);
    }

    private Map<String, Object> job(Path in, Path out) {
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
        job.put("mode", "incremental");
        job.put("shards", 2);
        return job;
    }

    /** The documents of a dataset (or of one kept version manifest) as strings, sorted: order is the job's. */
    private static List<String> documents(Path datasetOrVersion) {
        List<String> docs = new ArrayList<>();
        for (int[] d : TestJobs.documents(datasetOrVersion, TestJobs.BYTES_EOS)) {
            byte[] b = new byte[d.length];
            for (int i = 0; i < d.length; i++) {
                b[i] = (byte) d[i];
            }
            docs.add(new String(b, StandardCharsets.UTF_8));
        }
        docs.sort(null);
        return docs;
    }

    private static List<String> linesOf(Path... files) throws IOException {
        List<String> all = new ArrayList<>();
        for (Path f : files) {
            all.addAll(Files.readAllLines(f));
        }
        all.sort(null);
        return all;
    }

    /** Every file with its bytes and modification time. */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new HashMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                m.put(dir.relativize(p).toString(), Files.isRegularFile(p)
                        ? Files.getLastModifiedTime(p) + ":" + java.util.Arrays.hashCode(Files.readAllBytes(p)) : "dir");
            }
        }
        return m;
    }

    @Test
    void anIncrementalRunAddsOnlyTheNewFilesAsANewVersionAndKeepsTheOldOneReadable() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 30);
        lines(in.resolve("b.txt"), "beta", 20);
        Path out = tmp.resolve("out");
        TokenizeResult v1 = TestJobs.run(job(in, out));
        assertEquals(1, v1.manifest().datasetVersion().number());
        Map<String, byte[]> v1Files = TestJobs.files(out);

        lines(in.resolve("c.txt"), "gamma", 25);
        TokenizeResult v2 = TestJobs.run(job(in, out));
        assertTrue(v2.published());
        assertEquals(2, v2.manifest().datasetVersion().number());
        assertEquals(75, v2.manifest().counts().documentsRead());
        List<String> paths = v2.manifest().shards().stream().map(s -> s.path()).toList();
        assertEquals(List.of("v0001/shard-00000.arrow", "v0001/shard-00001.arrow", "v0002/shard-00000.arrow",
                "v0002/shard-00001.arrow"), paths);
        // only c.txt was tokenized: the second increment lists it alone
        assertEquals(List.of("c.txt"), v2.manifest().datasetVersion().increments().get(1).files().stream()
                .map(f -> f.path()).toList());

        // the old version's files are untouched, and its kept manifest still opens it
        Map<String, byte[]> now = TestJobs.files(out);
        for (String f : List.of("v0001/shard-00000.arrow", "v0001/shard-00001.arrow", "versions/v0001.json")) {
            assertArrayEquals(v1Files.get(f), now.get(f), f);
        }
        assertEquals(linesOf(in.resolve("a.txt"), in.resolve("b.txt")), documents(out.resolve("versions/v0001.json")));
        assertEquals(linesOf(in.resolve("a.txt"), in.resolve("b.txt"), in.resolve("c.txt")), documents(out));

        // seq_ids stay unique across versions
        TreeSet<Long> ids = new TreeSet<>();
        long rows = 0;
        try (DatasetReader r = DatasetReader.open(out)) {
            for (var it = r.sequences(); it.hasNext(); rows++) {
                ids.add(it.next().seqId());
            }
        }
        assertEquals(rows, ids.size());

        // inspect lists both versions and marks the current one
        JsonNode summary = new ObjectMapper().readTree(DatasetInspector.summaryJson(out));
        assertEquals(2, summary.get("dataset_version").asInt());
        assertEquals(2, summary.get("versions").size());
        assertTrue(summary.get("versions").get(1).get("current").asBoolean());
        assertEquals(v2.manifest().datasetVersion().fingerprint(), summary.get("fingerprint").asText());
        assertTrue(Files.isRegularFile(out.resolve("_SUCCESS")));
    }

    @Test
    void aReRunWithNoNewInputChangesNothingAndSaysNothingToDo() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 10);
        Path out = tmp.resolve("out");
        TestJobs.run(job(in, out));
        Map<String, String> before = snapshot(out);

        TokenizeResult again = TestJobs.run(job(in, out));
        assertFalse(again.published());
        assertTrue(again.summary().contains("nothing to do"), again.summary());
        assertEquals(before, snapshot(out), "not a byte, name or modification time changed");

        // through the command line: exit 0
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(new StringWriter())).execute("--input", in.toString(),
                "--format", "lines", "--output", out.toString(), "--tokenizer", "bytes", "--chunk-size", "8",
                "--chunks-per-seq", "4", "--rows-per-batch", "3", "--shards", "2", "--mode", "incremental");
        assertEquals(0, code);
        assertEquals(before, snapshot(out));
    }

    @Test
    void theSameInputsInTheSameOrderOfArrivalGiveByteIdenticalVersions() throws IOException {
        List<Map<String, byte[]>> outputs = new ArrayList<>();
        for (String run : List.of("one", "two")) {
            Path in = tmp.resolve(run + "/in");
            Path out = tmp.resolve(run + "/out");
            lines(in.resolve("a.txt"), "alpha", 15);
            TestJobs.run(job(in, out));
            lines(in.resolve("b.txt"), "beta", 15);
            TestJobs.run(job(in, out));
            outputs.add(TestJobs.files(out));
        }
        assertEquals(outputs.get(0).keySet(), outputs.get(1).keySet());
        for (String f : outputs.get(0).keySet()) {
            if (f.endsWith(".arrow")) {
                assertArrayEquals(outputs.get(0).get(f), outputs.get(1).get(f), f);
            }
        }
    }

    @Test
    void aChangedConfigurationIsRefusedInIncrementalModeAndReplacedWithOverwrite() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 12);
        Path out = tmp.resolve("out");
        TokenizeResult v1 = TestJobs.run(job(in, out));
        Map<String, Object> changed = job(in, out);
        changed.put("chunk-size", 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestJobs.run(changed));
        assertTrue(e.getMessage().contains("chunk-size 8 -> 4") && e.getMessage().contains("--overwrite"), e.getMessage());

        changed.put("overwrite", true);
        TokenizeResult v2 = TestJobs.run(changed);
        assertEquals(2, v2.manifest().datasetVersion().number());
        assertEquals(4, v2.manifest().header().chunkSize());
        assertNotEquals(v1.manifest().datasetVersion().fingerprint(), v2.manifest().datasetVersion().fingerprint());
        assertFalse(Files.exists(out.resolve("v0001")), "the replaced version is deleted after the switch");
        // issue 20: the replaced version's manifest stays in versions/ as README says; naming it explains what happened
        assertTrue(Files.exists(out.resolve("versions/v0001.json")), "older manifests stay in versions/");
        DatasetException gone = assertThrows(DatasetException.class,
                () -> DatasetReader.open(out.resolve("versions/v0001.json")).close());
        assertEquals("dataset version 1 of " + out + " was replaced by version 2 (--overwrite deletes a replaced "
                + "version's shards once the new one is published; its manifest stays in versions/ as a record): open "
                + out + " for the current version", gone.getMessage());
        assertEquals(linesOf(in.resolve("a.txt")), documents(out));
    }

    @Test
    void anIncrementalRunRefusesAnInputFileThatChangedSinceItWasTokenized() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 12);
        Path out = tmp.resolve("out");
        TestJobs.run(job(in, out));
        lines(in.resolve("a.txt"), "alpha!", 12);
        Files.setLastModifiedTime(in.resolve("a.txt"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestJobs.run(job(in, out)));
        assertTrue(e.getMessage().contains("a.txt changed"), e.getMessage());
    }

    @Test
    void aFailedOverwriteLeavesTheOldDatasetReadable() throws IOException {
        // issue 9, finding 5: --overwrite used to delete the old manifest before the new dataset was complete
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 12);
        Path out = tmp.resolve("out");
        TestJobs.run(TestJobs.bytesJob(in, "lines", out));
        String summaryBefore = DatasetInspector.summaryJson(out);

        Path broken = Files.createDirectories(tmp.resolve("broken"));
        InputFormatsTest.gzip(broken.resolve("good.txt.gz"), "line one\nline two\n".repeat(200));
        byte[] whole = Files.readAllBytes(broken.resolve("good.txt.gz"));
        Files.write(broken.resolve("truncated.txt.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err)).execute("--input", broken.toString(),
                "--format", "lines", "--output", out.toString(), "--tokenizer", "bytes", "--chunk-size", "8",
                "--chunks-per-seq", "4", "--rows-per-batch", "3", "--overwrite");
        assertEquals(1, code, err.toString());
        assertEquals(summaryBefore, DatasetInspector.summaryJson(out), "the old version is still the dataset, whole");
    }

    @Test
    void anInputWhoseEveryRecordIsInvalidFailsAndPublishesNothing() throws IOException {
        // issue 9, finding 5: used to end with exit 0 and an empty dataset
        Path in = tmp.resolve("in.jsonl");
        Files.write(in, List.of("{not json", "{\"title\": \"no text field\"}", "[1, 2]"));
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err)).execute("--input", in.toString(),
                "--format", "jsonl", "--output", out.toString(), "--tokenizer", "bytes");
        assertEquals(1, code, err.toString());
        assertTrue(err.toString().contains("all 3 record(s)") && err.toString().contains("skipped as invalid")
                && err.toString().contains("nothing was published"), err.toString());
        assertFalse(Files.exists(out.resolve(Manifest.FILE_NAME)));
        assertFalse(Files.exists(out.resolve("_SUCCESS")));
        assertFalse(Files.exists(out.resolve("v0001")), "no shard of the failed version is left");
    }
}
