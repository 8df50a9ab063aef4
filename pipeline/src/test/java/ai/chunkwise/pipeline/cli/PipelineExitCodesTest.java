package ai.chunkwise.pipeline.cli;

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
 * pipeline.jar's exit codes follow the one table of all jars (README "Exit codes", issue #20 item 3): 0 done,
 * 1 failed while running, 2 bad usage or input; a failed step's own code is passed on (PipelineRunnerTest).
 */
class PipelineExitCodesTest {

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
    void noArgumentsListsTheCommandsAndExitsZero() {
        Result r = run();
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("inspect") && r.out().contains("run"), r.out());
    }

    @Test
    void badUsageAndBadInputExitTwo(@TempDir Path dir) throws Exception {
        Result unknown = run("inspectt", dir.toString());
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("inspectt") && unknown.err().contains("inspect"), unknown.err());

        Result missingConf = run("run", dir.resolve("nowhere.conf").toString());
        assertEquals(2, missingConf.exit());
        assertTrue(missingConf.err().contains("nowhere.conf") && missingConf.err().contains("does not exist"), missingConf.err());

        Path documents = Files.createDirectories(dir.resolve("documents"));
        Files.writeString(documents.resolve("a.txt"), "text, not a dataset");
        Result notADataset = run("inspect", documents.toString());
        assertEquals(2, notADataset.exit(), notADataset.err());
        assertFalse(notADataset.err().contains("\tat "), notADataset.err());
    }

    @Test
    void aStepThatCannotStartExitsOne(@TempDir Path dir) throws Exception {
        // the configured java does not exist: the run fails while running, not because of what the user typed
        Files.writeString(dir.resolve("t.jar"), "");
        Files.writeString(dir.resolve("r.jar"), "");
        Path conf = dir.resolve("p.conf");
        Files.writeString(conf, "pipeline {\n  java = \"" + dir.resolve("no-such-java") + "\"\n  dataset = \""
                + dir.resolve("ds") + "\"\n  tokenize { jar = \"" + dir.resolve("t.jar") + "\", conf = \"t.conf\" }\n"
                + "  train { jar = \"" + dir.resolve("r.jar") + "\", conf = \"r.conf\", output = \"" + dir.resolve("run")
                + "\" }\n}\n");
        Result r = run("run", conf.toString());
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("could not start"), r.err());
    }
}
