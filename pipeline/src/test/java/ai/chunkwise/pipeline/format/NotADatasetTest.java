package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.cli.PipelineCli;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20, item 2: {@code inspect} (and every reader: they share {@link DatasetReader#open}) on a directory that is
 * not a dataset says what the directory is and what was expected, and never advises deleting it.
 */
class NotADatasetTest {

    @TempDir
    Path tmp;

    /** inspect's error output for {@code dir}, after checking the exit code. */
    private String inspectError(Path dir) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PipelineCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true),
                "inspect", dir.toString());
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(PipelineCli.EXIT_BAD_DATASET, code, e);
        assertFalse(e.contains("delete"), "no advice to delete what is not a damaged dataset: " + e);
        assertTrue(e.contains(dir + " is not a dataset (no manifest.json)") || e.contains("dataset " + dir), e);
        return e;
    }

    private static void assertContains(String text, String... fragments) {
        for (String f : fragments) {
            assertTrue(text.contains(f), "'" + f + "' not in: " + text);
        }
    }

    @Test
    void aFolderOfDocumentsIsNamedAndTheTokenizeStepSuggested() throws Exception {
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        for (int i = 0; i < 5; i++) {
            Files.writeString(docs.resolve("debate-00" + i + ".txt"), "Madam President, " + i);
        }
        assertContains(inspectError(docs), "a folder of input documents (5 file(s): debate-000.txt, debate-001.txt, "
                + "debate-002.txt, ...)", "tokenize-job --input " + docs, "manifest.json");
    }

    @Test
    void aTrainingRunsOutputIsNamedAndTheRunsDatasetPointedTo() throws Exception {
        Path run = tmp.resolve("run");
        Files.createDirectories(run.resolve("checkpoints/step-000004/model"));
        Files.writeString(run.resolve("checkpoints/latest"), "step-000004\n");
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":1}\n");
        Files.writeString(run.resolve("report.json"), "{}\n");
        assertContains(inspectError(run), "a training run's output directory (it holds checkpoints/, metrics.jsonl, "
                + "report.json)", "train.data.dataset");
        assertContains(inspectError(run.resolve("checkpoints")), "checkpoints/ directory");
        Files.writeString(run.resolve("checkpoints/step-000004/trainer_state.json"), "{}");
        assertContains(inspectError(run.resolve("checkpoints/step-000004")), "a training checkpoint");
    }

    @Test
    void anEmptyDirectoryAModelAndAStrangeDirectoryAreEachNamed() throws Exception {
        assertContains(inspectError(Files.createDirectories(tmp.resolve("empty"))), "it is an empty directory",
                "--output " + tmp.resolve("empty"));
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{}");
        Files.writeString(model.resolve("model.safetensors"), "");
        assertContains(inspectError(model), "a model directory", "--model");
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.createDirectories(other.resolve("src"));
        Files.writeString(other.resolve("pom.xml"), "<project/>");
        assertContains(inspectError(other), "holds 2 entries (pom.xml, src/) but no dataset", "check the path");
    }

    @Test
    void aDatasetTheJobDidNotFinishIsToldToReRunTheJobNotToDeleteIt() throws Exception {
        Path ds = tmp.resolve("ds");
        TestDatasets.write(ds, TestDatasets.rows(PackingPolicy.CONCAT, 10, 3), TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        Files.delete(ds.resolve(Manifest.FILE_NAME));   // a job killed before its last step leaves this
        Files.createDirectories(ds.resolve("_chunkwise_tmp"));
        assertContains(inspectError(ds), "a dataset that tokenize-job did not finish (_chunkwise_tmp/",
                "Re-run the same tokenize-job command with --output " + ds);
    }

    @Test
    void theManifestFileItselfIsAnsweredWithItsDirectory() throws Exception {
        Path ds = tmp.resolve("ds");
        TestDatasets.write(ds, TestDatasets.rows(PackingPolicy.CONCAT, 10, 3), TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        String e = inspectError(ds.resolve(Manifest.FILE_NAME));
        assertContains(e, "is the manifest file; pass its directory, " + ds);
    }
}
