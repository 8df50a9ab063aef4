package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.data.TinyDatasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
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

    /** {exit code, stdout, stderr} */
    private static String[] run(String... args) {
        CommandLine cli = TrainCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void trainAndEvalNameTheDocumentsFolderAndTheRunOutputForWhatTheyAre(@TempDir Path tmp) throws Exception {
        Path modelConfig = tmp.resolve("config.json");
        HfCheckpoint.writeConfig(TinyDatasets.tinyModel(), modelConfig);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 4);
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        for (int i = 0; i < 3; i++) {
            Files.writeString(docs.resolve("doc-" + i + ".txt"), "text " + i);
        }
        // a real run's output, as the quickstart leaves it
        Path runOut = tmp.resolve("run");
        String[] ok = run("train", "--init-config", modelConfig.toString(), "--dataset", ds.toString(), "--out",
                runOut.toString(), "--steps", "1");
        assertEquals("0", ok[0], ok[2]);

        String[] r = run("train", "--init-config", modelConfig.toString(), "--dataset", docs.toString(), "--out",
                tmp.resolve("run2").toString(), "--steps", "1");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains(docs + " is not a dataset (no manifest.json): it looks like a folder of input "
                + "documents (3 file(s): doc-0.txt, doc-1.txt, doc-2.txt)"), r[2]);
        assertTrue(r[2].contains("tokenize-job --input " + docs), r[2]);
        assertFalse(r[2].contains("delete"), r[2]);

        String[] e = run("eval", "--model", runOut.resolve("checkpoints/step-000001/model").toString(), "--dataset",
                runOut.toString());
        assertEquals("2", e[0], e[2]);
        assertTrue(e[2].contains(runOut + " is not a dataset (no manifest.json): it is a training run's output "
                + "directory (it holds checkpoints/, metrics.jsonl, report.json)"), e[2]);
        assertFalse(e[2].contains("delete"), e[2]);
    }
}
