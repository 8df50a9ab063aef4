package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pre-flight errors (before any Spark work: {@link TokenizePlan#prepare} has no Spark session to use), the
 * overwrite rule, and recovery from a killed run.
 */
class OutputSafetyTest {
    @TempDir
    Path tmp;

    private Path input() throws IOException {
        Path in = tmp.resolve("in.txt");
        if (!Files.exists(in)) {
            Files.write(in, List.of("one document", "another document", "a third, longer document than a single row"));
        }
        return in;
    }

    private static IllegalArgumentException preflightError(Map<String, Object> job) {
        return assertThrows(IllegalArgumentException.class,
                () -> TokenizePlan.prepare(TokenizeSettings.load(job, null), new Configuration()));
    }

    @Test
    void missingInputIsAClearPreflightError() {
        IllegalArgumentException e = preflightError(TestJobs.bytesJob(tmp.resolve("nope/*.txt"), "lines", tmp.resolve("out")));
        assertTrue(e.getMessage().contains("nope/*.txt") && e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")), "nothing is created when the input is missing");
    }

    @Test
    void unknownTokenizerIsAClearPreflightError() throws IOException {
        Map<String, Object> job = TestJobs.bytesJob(input(), "lines", tmp.resolve("out"));
        job.put("tokenizer", "tiktoken:gpt5_base");
        IllegalArgumentException e = preflightError(job);
        assertTrue(e.getMessage().contains("tiktoken:gpt5_base"), e.getMessage());
    }

    @Test
    void unwritableOutputIsAClearPreflightError() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        IllegalArgumentException e = preflightError(TestJobs.bytesJob(input(), "lines", file.resolve("dataset")));
        assertTrue(e.getMessage().contains("not writable"), e.getMessage());
        IllegalArgumentException e2 = preflightError(TestJobs.bytesJob(input(), "lines", file));
        assertTrue(e2.getMessage().contains("is a file"), e2.getMessage());
    }

    @Test
    void outputWithForeignFilesIsRefused() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(out.resolve("thesis.tex"), "precious");
        IllegalArgumentException e = preflightError(TestJobs.bytesJob(input(), "lines", out));
        assertTrue(e.getMessage().contains("thesis.tex"), e.getMessage());
        assertEquals("precious", Files.readString(out.resolve("thesis.tex")));
    }

    @Test
    void anExistingDatasetIsKeptUnlessOverwriteIsGiven() throws IOException {
        Path out = tmp.resolve("out");
        Map<String, Object> job = TestJobs.bytesJob(input(), "lines", out);
        TestJobs.run(job);
        Map<String, byte[]> before = TestJobs.files(out);

        IllegalArgumentException e = preflightError(job);
        assertTrue(e.getMessage().contains("already holds a dataset") && e.getMessage().contains("--overwrite"), e.getMessage());
        Map<String, byte[]> after = TestJobs.files(out);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name));

        // the command line says the same, as one line, with exit code 2 (bad usage or input)
        StringWriter err = new StringWriter();
        int code = TokenizeJob.commandLine().setErr(new PrintWriter(err))
                .execute("--input", input().toString(), "--format", "lines", "--output", out.toString(), "--tokenizer", "bytes");
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("tokenize-job: error: output directory"), err.toString());

        job.put("overwrite", true);
        job.put("chunk-size", 4);
        TokenizeResult r = TestJobs.run(job);
        assertEquals(4, r.manifest().header().chunkSize());
        try (DatasetReader reader = DatasetReader.open(out)) {
            assertEquals(4, reader.manifest().header().chunkSize());
        }
    }

    @Test
    void aRunKilledHalfWayLeavesNoDatasetAndTheReRunCompletesCleanly() throws IOException {
        Path clean = tmp.resolve("clean");
        TestJobs.run(TestJobs.bytesJob(input(), "lines", clean));

        // what a killed run leaves behind: shards (complete or not), attempt files, a manifest.json.tmp, no manifest
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.write(out.resolve("shard-00000.arrow"), new byte[]{1, 2, 3});
        Files.write(out.resolve("shard-00004.arrow"), new byte[]{4});
        Path attempts = Files.createDirectories(out.resolve("_chunkwise_tmp"));
        Files.write(attempts.resolve("shard-00001.arrow.attempt-17"), new byte[]{5, 6});
        Files.writeString(out.resolve("manifest.json.tmp"), "{\"half\":");
        assertThrows(RuntimeException.class, () -> DatasetReader.open(out), "no manifest: not a dataset");

        TestJobs.run(TestJobs.bytesJob(input(), "lines", out));

        Map<String, byte[]> expected = TestJobs.files(clean);
        Map<String, byte[]> actual = TestJobs.files(out);
        assertEquals(List.of("_SUCCESS", "manifest.json", "v0001/shard-00000.arrow", "versions/v0001.json"),
                List.copyOf(actual.keySet()));
        assertArrayEquals(expected.get("v0001/shard-00000.arrow"), actual.get("v0001/shard-00000.arrow"));
        try (DatasetReader reader = DatasetReader.open(out)) {
            assertEquals(3, reader.manifest().counts().documentsRead());
        }
    }
}
