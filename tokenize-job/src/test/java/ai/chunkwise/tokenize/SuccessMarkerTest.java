package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20, item 11: {@code _SUCCESS} is replaced atomically, and a re-run repairs a marker that does not name the
 * current version. The kill window (after the manifest switch, while the marker is written) is simulated by a
 * local file system that dies, leaving what it had created, the moment the job creates a file named
 * {@code _SUCCESS*}: a build that rewrote the marker in place then left an empty {@code _SUCCESS}.
 */
class SuccessMarkerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** The local file system, except that creating {@code _SUCCESS*} while armed creates the file and then "dies". */
    public static final class DyingAtMarkerFileSystem extends LocalFileSystem {
        static volatile boolean armed;

        @Override
        public FSDataOutputStream create(org.apache.hadoop.fs.Path f, FsPermission permission, boolean overwrite,
                                         int bufferSize, short replication, long blockSize, Progressable progress)
                throws IOException {
            FSDataOutputStream out = super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
            if (armed && f.getName().startsWith("_SUCCESS")) {
                out.close();   // the file exists, empty: as open(O_TRUNC) leaves it when the process dies next
                throw new IOException("simulated kill -9 while writing " + f);
            }
            return out;
        }
    }

    @AfterEach
    void disarm() {
        DyingAtMarkerFileSystem.armed = false;
    }

    private static void lines(Path file, String prefix, int n) throws IOException {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(prefix + " document " + i);
        }
        Files.createDirectories(file.getParent());
        Files.write(file, l);
    }

    private static Map<String, Object> job(Path in, Path out) {
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
        job.put("mode", "incremental");
        return job;
    }

    /** Runs the job with the dying file system as the driver's (the executors write the shards as usual). */
    private static void runDyingAtMarker(Map<String, Object> job) {
        Configuration conf = new Configuration(SharedSpark.session().sparkContext().hadoopConfiguration());
        conf.set("fs.file.impl", DyingAtMarkerFileSystem.class.getName());
        conf.setBoolean("fs.file.impl.disable.cache", true);
        TokenizePlan plan = TokenizePlan.prepare(TokenizeSettings.load(job, null), conf);
        DyingAtMarkerFileSystem.armed = true;
        RuntimeException e = assertThrows(RuntimeException.class, () -> TokenizeRunner.run(SharedSpark.session(), plan));
        assertTrue(String.valueOf(e.getMessage()).contains("simulated kill"), String.valueOf(e.getMessage()));
        DyingAtMarkerFileSystem.armed = false;
    }

    /** The re-run a user makes, through the command line: {exit code, stdout}. */
    private static String[] rerun(Path in, Path out) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int code;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            code = TokenizeJob.commandLine().setErr(new PrintWriter(err)).execute("--input", in.toString(), "--format",
                    "lines", "--output", out.toString(), "--tokenizer", "bytes", "--chunk-size", "8", "--chunks-per-seq",
                    "4", "--rows-per-batch", "3", "--mode", "incremental");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, code, err.toString());
        return new String[] {String.valueOf(code), bytes.toString(StandardCharsets.UTF_8)};
    }

    private static int manifestVersion(Path out) throws IOException {
        return JSON.readTree(out.resolve(Manifest.FILE_NAME).toFile()).path("dataset_version").path("number").asInt();
    }

    /** The marker as a scheduler reads it; fails on an empty or partial one. */
    private static JsonNode marker(Path out) throws IOException {
        String text = Files.readString(out.resolve("_SUCCESS"));
        assertTrue(text.endsWith("}\n"), "_SUCCESS is whole: '" + text + "'");
        return JSON.readTree(text);
    }

    /** What the marker must say for the current manifest: written independently of the job's code. */
    private static void assertMarkerNamesTheManifest(Path out) throws IOException {
        JsonNode manifest = JSON.readTree(out.resolve(Manifest.FILE_NAME).toFile()).path("dataset_version");
        JsonNode m = marker(out);
        int v = manifest.path("number").asInt();
        assertEquals(v, m.path("version").asInt());
        assertEquals(String.format("versions/v%04d.json", v), m.path("manifest").asText());
        assertEquals(manifest.path("fingerprint").asText(), m.path("fingerprint").asText());
    }

    @Test
    void aKillAfterTheSwitchOfAnIncrementalRunLeavesTheOldMarkerWholeAndTheReRunRepairsIt() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 6);
        Path out = tmp.resolve("out");
        TestJobs.run(job(in, out));
        assertMarkerNamesTheManifest(out);

        lines(in.resolve("b.txt"), "beta", 6);
        runDyingAtMarker(job(in, out));
        assertEquals(2, manifestVersion(out), "the kill came after the manifest switch");
        assertEquals(1, marker(out).path("version").asInt(), "the old marker is whole (replaced by rename, never in place)");

        String[] r = rerun(in, out);
        assertTrue(r[1].contains("nothing to do") && r[1].contains("repaired " + out.resolve("_SUCCESS")
                + ": it said {\"version\":1,"), r[1]);
        assertMarkerNamesTheManifest(out);
        assertEquals(2, marker(out).path("version").asInt());
        assertTrue(Files.notExists(out.resolve("_SUCCESS.tmp")), "the dead run's temporary marker is cleaned up");

        // a right marker is left alone: a second re-run changes nothing and says nothing about it
        long before = Files.getLastModifiedTime(out.resolve("_SUCCESS")).toMillis();
        String[] again = rerun(in, out);
        assertTrue(again[1].contains("nothing to do") && !again[1].contains("repaired"), again[1]);
        assertEquals(before, Files.getLastModifiedTime(out.resolve("_SUCCESS")).toMillis());
    }

    @Test
    void aKillDuringOverwriteLeavesNoEmptyMarkerAndAnEmptyOrMissingOneIsRepaired() throws IOException {
        Path in = tmp.resolve("in");
        lines(in.resolve("a.txt"), "alpha", 6);
        Path out = tmp.resolve("out");
        TestJobs.run(job(in, out));

        Map<String, Object> overwrite = job(in, out);
        overwrite.put("mode", "full");
        overwrite.put("overwrite", true);
        runDyingAtMarker(overwrite);
        assertEquals(2, manifestVersion(out));
        assertEquals(1, marker(out).path("version").asInt(), "not a 0-byte _SUCCESS (issue 20's kill -9 finding)");
        rerun(in, out);
        assertMarkerNamesTheManifest(out);

        // an empty marker (what an older build left) and a missing one are repaired the same way
        Files.write(out.resolve("_SUCCESS"), new byte[0]);
        assertTrue(rerun(in, out)[1].contains("it was empty, but manifest.json is version 2"));
        assertMarkerNamesTheManifest(out);
        Files.delete(out.resolve("_SUCCESS"));
        assertTrue(rerun(in, out)[1].contains("it was missing"));
        assertMarkerNamesTheManifest(out);
    }
}
