package ai.chunkwise.pipeline.runner;

import ai.chunkwise.pipeline.format.DatasetReader;
import ai.chunkwise.tokenize.TokenizeJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9, finding 1, end to end: the runner starts the REAL tokenize job (its classes from this module's test
 * class path, through a "java" script that swaps {@code -jar tokenize.jar} for them), and a changed tokenize
 * configuration must give a re-tokenized dataset, not the stale one that still verifies.
 */
class RunnerRetokenizesOnConfigChangeTest {

    @Test
    void aChangedChunkSizeIsReTokenizedAndAnUnchangedOneIsNot(@TempDir Path dir) throws IOException {
        Path corpus = dir.resolve("corpus.txt");
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            docs.add("document number " + i + " of the corpus");
        }
        Files.write(corpus, docs);
        Path java = dir.resolve("java-tokenize.sh");
        String opens = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dio.netty") || a.startsWith("-Djdk.reflect"))
                .collect(Collectors.joining(" "));
        Files.writeString(java, "#!/bin/sh\n"
                + "# the runner calls: <java> -jar tokenize.jar <job options>\n"
                + "shift 2\n"
                + "exec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' -Xmx512m " + opens
                + " -cp '" + System.getProperty("java.class.path") + "' ai.chunkwise.tokenize.TokenizeJob \"$@\"\n");
        assertTrue(java.toFile().setExecutable(true));
        Files.writeString(dir.resolve("tokenize.jar"), "");
        Path pipeline = dir.resolve("pipeline.conf");
        Files.writeString(pipeline, "pipeline {\n  java = \"" + java + "\"\n  dataset = \"ds\"\n"
                + "  tokenize { jar = \"tokenize.jar\", conf = \"tok.conf\", args = [\"--partitions\", \"1\"] }\n"
                + "  train { jar = \"train.jar\", conf = \"train.conf\", output = \"run\" }\n}\n");

        // the first dataset in this JVM (a child JVM with Spark costs ~20 s on a busy 2-core machine)
        writeTokenizeConf(dir, corpus, 8);
        assertEquals(0, TokenizeJob.commandLine().execute("--conf", dir.resolve("tok.conf").toString(),
                "--output", dir.resolve("ds").toString(), "--partitions", "1"));
        assertEquals(8, chunkSize(dir.resolve("ds")));

        writeTokenizeConf(dir, corpus, 4);
        String log = runnerTokenize(dir, pipeline);
        assertEquals(4, chunkSize(dir.resolve("ds")), "the dataset was re-tokenized with the new chunk size: " + log);
        assertTrue(log.contains("a complete new version"), log);
        try (DatasetReader r = DatasetReader.open(dir.resolve("ds"))) {
            assertEquals(2, r.manifest().datasetVersion().number());
        }
    }

    private static void writeTokenizeConf(Path dir, Path corpus, int chunkSize) throws IOException {
        Files.writeString(dir.resolve("tok.conf"), "tokenize {\n  input = \"" + corpus + "\"\n  format = lines\n"
                + "  tokenizer = bytes\n  chunk-size = " + chunkSize + "\n  chunks-per-seq = 4\n}\n");
    }

    private static String runnerTokenize(Path dir, Path pipeline) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        new PipelineRunner(PipelineSettings.load(pipeline), dir, new PrintStream(out, true), new PrintStream(err, true))
                .tokenize();
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    private static int chunkSize(Path dataset) {
        try (DatasetReader r = DatasetReader.open(dataset)) {
            return r.manifest().header().chunkSize();
        }
    }
}
