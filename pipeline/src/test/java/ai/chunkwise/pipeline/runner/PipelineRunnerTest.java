package ai.chunkwise.pipeline.runner;

import ai.chunkwise.pipeline.cli.PipelineCli;
import ai.chunkwise.pipeline.config.UnknownConfigKeyException;
import ai.chunkwise.pipeline.format.LocalDatasetWriter;
import ai.chunkwise.pipeline.format.TestDatasets;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner against a fake "java": a shell script that records its arguments and fails like a job would when
 * asked to tokenize (exit 3 and an error on stderr), so the tests see exactly which steps were started.
 */
class PipelineRunnerTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private static Path setUp(Path dir, boolean tokenizeFails) throws IOException {
        Path fakeJava = dir.resolve("fake-java.sh");
        Files.writeString(fakeJava, "#!/bin/sh\n"
                + "echo \"$@\" >> \"$(dirname \"$0\")/calls.txt\"\n"
                + "echo \"OMP=$OMP_NUM_THREADS\" >> \"$(dirname \"$0\")/calls.txt\"\n"
                + (tokenizeFails ? "case \"$*\" in *tokenize.jar*) echo 'starting Spark' >&2; "
                + "echo 'error: input corpus/x.txt does not exist' >&2; exit 3;; esac\n" : "")
                + "echo 'step 1/1 | loss 1.0'\n"
                + "exit 0\n");
        assertTrue(fakeJava.toFile().setExecutable(true));
        Files.writeString(dir.resolve("tokenize.jar"), "");
        Files.writeString(dir.resolve("train.jar"), "");
        Path conf = dir.resolve("pipeline.conf");
        Files.writeString(conf, "pipeline {\n"
                + "  java = \"" + fakeJava + "\"\n"
                + "  dataset = \"ds\"\n"
                + "  tokenize { jar = \"tokenize.jar\", conf = \"tok.conf\" }\n"
                + "  train { jar = \"train.jar\", conf = \"train.conf\", output = \"run\", args = [\"--set\", \"train.steps=3\"] }\n"
                + "}\n");
        return conf;
    }

    private PipelineRunner runner(Path dir, Path conf) {
        return new PipelineRunner(PipelineSettings.load(conf), dir, new PrintStream(out, true), new PrintStream(err, true));
    }

    private static List<String> calls(Path dir) throws IOException {
        Path f = dir.resolve("calls.txt");
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    @Test
    void aCompleteDatasetIsCheckedIncrementallyByTheJobAndTrainingResumes(@TempDir Path dir) throws IOException {
        Path conf = setUp(dir, false);
        TestDatasets.write(dir.resolve("ds"), TestDatasets.rows(PackingPolicy.CONCAT, 20, 1),
                TestDatasets.header(PackingPolicy.CONCAT), 3, 2);
        runner(dir, conf).run();
        List<String> calls = calls(dir);
        // a dataset that verifies may be stale (issue 9, finding 1): the job compares fingerprints, never skipped
        assertEquals(List.of("-jar tokenize.jar --conf tok.conf --output ds --overwrite --mode incremental", "OMP=1",
                "-jar train.jar train --conf train.conf --dataset ds --out run --resume --set train.steps=3",
                "OMP=1"), calls, "tokenize asked to compare, then train with --resume and the dataset");
        String log = out.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("checking its fingerprint"), log);
        assertTrue(log.contains("step 1/1 | loss 1.0"), "the job's own output passes through: " + log);
    }

    @Test
    void aFailingStepStopsThePipelineWithItsExitCodeAndStderr(@TempDir Path dir) throws IOException {
        Path conf = setUp(dir, true);
        StepFailedException e = assertThrows(StepFailedException.class, () -> runner(dir, conf).run());
        assertEquals("tokenize", e.step());
        assertEquals(3, e.exitCode());
        assertTrue(e.getMessage().contains("exit code 3") && e.getMessage().contains("input corpus/x.txt does not exist"),
                e.getMessage());
        List<String> calls = calls(dir);
        assertEquals(2, calls.size(), "train never started: " + calls);
        assertEquals("-jar tokenize.jar --conf tok.conf --output ds --overwrite --mode full", calls.get(0));

        // through the CLI: the process exits with the step's own code and prints its error
        ByteArrayOutputStream cliErr = new ByteArrayOutputStream();
        String cwd = System.getProperty("user.dir");
        // the CLI resolves relative paths against the working directory, so give it absolute ones
        Path absConf = dir.resolve("abs.conf");
        Files.writeString(absConf, Files.readString(conf).replace("\"tokenize.jar\"", "\"" + dir.resolve("tokenize.jar") + "\"")
                .replace("\"ds\"", "\"" + dir.resolve("ds") + "\""));
        int code = PipelineCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(cliErr, true),
                "run", absConf.toString());
        assertEquals(3, code, "working directory " + cwd);
        assertTrue(cliErr.toString(StandardCharsets.UTF_8).contains("step 'tokenize' failed with exit code 3"),
                cliErr.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aDamagedDatasetIsRebuiltAndMustThenVerify(@TempDir Path dir) throws IOException {
        Path conf = setUp(dir, false);   // the fake tokenize "succeeds" but leaves the damage in place
        TestDatasets.write(dir.resolve("ds"), TestDatasets.rows(PackingPolicy.CONCAT, 20, 1),
                TestDatasets.header(PackingPolicy.CONCAT), 3, 2);
        Files.writeString(dir.resolve("ds").resolve(LocalDatasetWriter.shardName(0)), "x", StandardOpenOption.APPEND);
        StepFailedException e = assertThrows(StepFailedException.class, () -> runner(dir, conf).run());
        assertEquals("verify", e.step());
        assertTrue(e.getMessage().contains("extra bytes"), e.getMessage());
        assertTrue(calls(dir).get(0).startsWith("-jar tokenize.jar"), "tokenize ran again: " + calls(dir));
        assertFalse(calls(dir).stream().anyMatch(c -> c.contains("train.jar")), "train never started");
    }

    @Test
    void trainCanBeLaunchedThroughSparkSubmitWithTheDatasetAsAFileUri(@TempDir Path dir) throws IOException {
        Path conf = setUp(dir, false);
        TestDatasets.write(dir.resolve("ds"), TestDatasets.rows(PackingPolicy.CONCAT, 20, 1),
                TestDatasets.header(PackingPolicy.CONCAT), 3, 2);
        String uri = "file://" + dir.resolve("ds");
        Files.writeString(conf, Files.readString(conf).replace("dataset = \"ds\"", "dataset = \"" + uri + "\"")
                .replace("args = [\"--set\", \"train.steps=3\"] }", "args = [\"--set\", \"train.steps=3\"], spark-submit = \""
                        + dir.resolve("fake-java.sh") + "\", spark-args = [\"--master\", \"spark://m:7077\"] }"));
        runner(dir, conf).run();
        assertEquals(List.of("-jar tokenize.jar --conf tok.conf --output " + uri + " --overwrite --mode incremental", "OMP=1",
                "--class ai.chunkwise.train.cli.TrainCli --master spark://m:7077 train.jar train --conf "
                + "train.conf --dataset " + uri + " --out run --resume --set train.steps=3", "OMP=1"), calls(dir),
                "a complete dataset named by URI (kept as written) is checked by the job; train goes through spark-submit");
    }

    @Test
    void unknownPipelineKeysAreNamed(@TempDir Path dir) throws IOException {
        Path conf = dir.resolve("p.conf");
        Files.writeString(conf, "pipeline {\n  dataset = ds\n  train { outptu = x }\n}\n");
        UnknownConfigKeyException e = assertThrows(UnknownConfigKeyException.class, () -> PipelineSettings.load(conf));
        assertTrue(e.getMessage().contains("'pipeline.train.outptu'") && e.getMessage().contains("pipeline.train.output"),
                e.getMessage());
    }
}
