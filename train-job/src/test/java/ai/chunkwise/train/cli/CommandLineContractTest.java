package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.data.TinyDatasets;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a user meets at train-job's command line (issue #20): exit codes 0/1/2/3 as in README's table, --verbose
 * stack traces, the end of train's console output, the hint for a conf file without its wrapper, counts beyond an
 * int, SpaCO steps that back-propagate nothing, and the base model's name in adapter_config.json.
 */
class CommandLineContractTest {
    private static final ObjectMapper JSON = new ObjectMapper();



    private static List<String> scratchRun(Path tmp, String out, String... more) throws Exception {
        Path config = tmp.resolve("config.json");
        if (!Files.exists(config)) {
            HfCheckpoint.writeConfig(TinyDatasets.tinyModel(), config);
        }
        Path ds = tmp.resolve("ds");
        if (!Files.exists(ds)) {
            TinyDatasets.write(ds, 6);
        }
        List<String> args = new ArrayList<>(List.of("train", "--init-config", config.toString(), "--dataset",
                ds.toString(), "--out", tmp.resolve(out).toString()));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void exitCodesFollowTheTable(@TempDir Path tmp) throws Exception {
        CommandRun ok = CommandRun.of(scratchRun(tmp, "ok", "--steps", "1").toArray(String[]::new));
        assertEquals(0, ok.code(), ok.err());

        CommandRun unknownOption = CommandRun.of("train", "--stepz", "3");
        assertEquals(2, unknownOption.code());
        assertTrue(unknownOption.err().contains("--stepz") && unknownOption.err().contains("--steps"),
                "names the option and the closest one: " + unknownOption.err());
        CommandRun notANumber = CommandRun.of("train", "--steps", "many");
        assertEquals(2, notANumber.code(), notANumber.err());

        CommandRun badKey = CommandRun.of("train", "--set", "train.optimizer.lr-max=1");
        assertEquals(2, badKey.code());

        Path notADataset = Files.createDirectories(tmp.resolve("documents"));
        Files.writeString(notADataset.resolve("a.txt"), "some text");
        CommandRun badInput = CommandRun.of("eval", "--model", HfFixtures.gqa().toString(), "--dataset", notADataset.toString());
        assertEquals(2, badInput.code(), badInput.err());
        assertEquals("", badInput.out());

        // failed while running: the output's file system has no client here
        List<String> toS3 = scratchRun(tmp, "unused", "--steps", "1");
        toS3.set(toS3.indexOf("--out") + 1, "s3a://bucket/runs/x");
        CommandRun failed = CommandRun.of(toS3.toArray(String[]::new));
        assertEquals(1, failed.code(), failed.err());
        assertTrue(failed.err().startsWith("error: ") && failed.err().contains("s3a://bucket/runs/x"), failed.err());
    }

    @Test
    void verboseAddsTheStackTrace(@TempDir Path tmp) throws Exception {
        CommandRun quiet = CommandRun.of(scratchRun(tmp, "q", "--set", "train.steps=0").toArray(String[]::new));
        CommandRun verbose = CommandRun.of(scratchRun(tmp, "v", "--verbose", "--set", "train.steps=0").toArray(String[]::new));
        assertEquals(2, quiet.code());
        assertEquals(2, verbose.code());
        assertTrue(quiet.err().startsWith("error: ") && quiet.err().contains("train.steps"), quiet.err());
        assertFalse(quiet.err().contains("\tat "), quiet.err());
        assertTrue(verbose.err().contains("\tat ai.chunkwise.train."), verbose.err());
    }

    @Test
    void countsBeyondAnIntAreRefused(@TempDir Path tmp) throws Exception {
        for (String[] more : new String[][] {{"--set", "train.steps=99999999999"}, {"--steps", "99999999999"}}) {
            CommandRun r = CommandRun.of(scratchRun(tmp, "c", more).toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("'train.steps' is 99999999999, above the largest supported value 2147483647"),
                    r.err());
        }
    }

    @Test
    void aConfFileWithoutItsWrapperGetsAHint(@TempDir Path tmp) throws Exception {
        Path conf = tmp.resolve("run.conf");
        Files.writeString(conf, "steps = 3\nmethod { name = seco }\n");
        CommandRun r = CommandRun.of("train", "--conf", conf.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown configuration key 'steps'")
                && r.err().contains("These keys belong under train { }"), r.err());
    }

    @Test
    void trainEndsWithASummaryAndTheReportPathAndTheJsonOnlyOnRequest(@TempDir Path tmp) throws Exception {
        CommandRun r = CommandRun.of(scratchRun(tmp, "a", "--steps", "2").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        String report = tmp.resolve("a").resolve("report.html").toString();
        assertEquals("report     " + report + " (open in a browser; report.json beside it)", r.lastConsoleLine());
        assertTrue(r.console().contains("complete: 2 of 2 steps, loss "), r.console());
        assertFalse(r.console().contains("loss_curve"), "no JSON report on the console by default");
        assertTrue(r.console().contains(", float32, ") && !r.console().contains("FLOAT"), "header says float32: " + r.console());

        CommandRun json = CommandRun.of(scratchRun(tmp, "b", "--steps", "2", "--json").toArray(String[]::new));
        assertEquals(0, json.code(), json.err());
        JsonNode printed = JSON.readTree(json.lastConsoleLine());
        assertEquals(JSON.readTree(tmp.resolve("b/report.json").toFile()), printed, "--json prints report.json");
    }

    @Test
    void spacoStepsThatBackPropagateNoChunkAreSaidSo(@TempDir Path tmp) throws Exception {
        // budget 0.02 of 2 chunks: each chunk drawn with q = 0.01, so nearly every step draws none
        CommandRun r = CommandRun.of(scratchRun(tmp, "s", "--steps", "4", "--method", "spaco", "--set", "train.method.budget=0.02")
                .toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        long empty = 0;
        for (String line : Files.readAllLines(tmp.resolve("s/metrics.jsonl"))) {
            JsonNode e = JSON.readTree(line);
            empty += e.path("chunks_visited").asLong() == 0 ? 1 : 0;
        }
        assertTrue(empty > 0, "the seed draws at least one empty step");
        long marked = r.console().lines().filter(l -> l.startsWith("step ") && l.contains("no chunk back-propagated")).count();
        assertEquals(empty, marked, r.console());
        assertEquals(empty, JSON.readTree(tmp.resolve("s/report.json").toFile()).path("steps_without_chunks").asLong());
        String html = Files.readString(tmp.resolve("s/report.html"));
        assertTrue(html.contains("SpaCO steps that back-propagated no chunk</th><td>" + empty + " of 4"), html);
        assertTrue(r.console().contains(empty + " step(s) back-propagated no chunk"), r.console());
    }

    @Test
    void aLongerResumedRunShowsBothLearningRateSchedules(@TempDir Path tmp) throws Exception {
        String[] schedule = {"--set", "train.optimizer.lr=0.01", "--set", "train.optimizer.min-lr=0",
                "--set", "train.optimizer.warmup-steps=0", "--set", "train.checkpoint-every=1"};
        List<String> first = scratchRun(tmp, "r", "--steps", "4");
        first.addAll(List.of(schedule));
        assertEquals(0, CommandRun.of(first.toArray(String[]::new)).code());
        List<String> longer = scratchRun(tmp, "r", "--steps", "8", "--resume");
        longer.addAll(List.of(schedule));
        CommandRun r = CommandRun.of(longer.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        // by hand: the 5th step (index 4) is past the end of a 4-step cosine (min-lr 0); of an 8-step one it is
        // half way: 0.01 * (1 + cos(pi/2)) / 2 = 0.005; the last (index 7): 0.01 * (1 + cos(7 pi/8)) / 2 = 3.81e-4
        assertTrue(r.console().contains("resume: train.steps 4 -> 8 reshapes the learning-rate schedule"), r.console());
        assertTrue(r.console().contains("step 5: 0.00e+00 -> 5.00e-03 |"), r.console());
        assertTrue(r.console().contains("step 8: 0.00e+00 -> 3.81e-04\n"), r.console());
        assertTrue(r.console().contains("to keep the old shape, resume with train.steps = 4"), r.console());
    }

    @Test
    void theAdapterNamesItsBaseModelAsGivenRelativeUnderTheWorkingDirectory(@TempDir Path tmp) throws Exception {
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 2);
        Path relative = HfFixtures.gqa();   // relative to the module directory, the tests' working directory
        assertFalse(relative.isAbsolute());
        for (Path given : List.of(relative.toAbsolutePath(), relative)) {
            Path out = tmp.resolve("run-" + given.isAbsolute());
            CommandRun r = CommandRun.of("train", "--model", given.toString(), "--dataset", ds.toString(), "--out", out.toString(),
                    "--steps", "1", "--set", "train.lora.enabled=true", "--set", "train.data.check-tokenizer=false");
            assertEquals(0, r.code(), r.err());
            JsonNode adapter = JSON.readTree(out.resolve("checkpoints/step-000001/adapter/adapter_config.json").toFile());
            assertEquals(relative.toString(), adapter.get("base_model_name_or_path").asText(), "given " + given);
        }
    }
}
