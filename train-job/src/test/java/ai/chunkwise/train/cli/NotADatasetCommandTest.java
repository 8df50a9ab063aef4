package ai.chunkwise.train.cli;

import ai.chunkwise.train.data.TinyDatasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20, item 2, where users meet it: {@code train --dataset} and {@code eval --dataset} given the documents folder
 * or a run's output say what that directory is and what was expected, without advice to delete it.
 */
class NotADatasetCommandTest {


    @Test
    void trainAndEvalNameTheDocumentsFolderAndTheRunOutputForWhatTheyAre(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 4);
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        for (int i = 0; i < 3; i++) {
            Files.writeString(docs.resolve("doc-" + i + ".txt"), "text " + i);
        }
        // a real run's output, as the quickstart leaves it
        Path runOut = tmp.resolve("run");
        CommandRun ok = CommandRun.of("train", "--init-config", modelConfig.toString(), "--dataset", ds.toString(), "--out",
                runOut.toString(), "--steps", "1");
        assertEquals(0, ok.code(), ok.err());

        CommandRun r = CommandRun.of("train", "--init-config", modelConfig.toString(), "--dataset", docs.toString(), "--out",
                tmp.resolve("run2").toString(), "--steps", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains(docs + " is not a dataset (no manifest.json): it looks like a folder of input "
                + "documents (3 file(s): doc-0.txt, doc-1.txt, doc-2.txt)"), r.err());
        assertTrue(r.err().contains("tokenize-job --input " + docs), r.err());
        assertFalse(r.err().contains("delete"), r.err());

        CommandRun e = CommandRun.of("eval", "--model", runOut.resolve("checkpoints/step-000001/model").toString(), "--dataset",
                runOut.toString());
        assertEquals(2, e.code(), e.err());
        assertTrue(e.err().contains(runOut + " is not a dataset (no manifest.json): it is a training run's output "
                + "directory (it holds checkpoints/, metrics.jsonl, report.json)"), e.err());
        assertFalse(e.err().contains("delete"), e.err());
    }
}
