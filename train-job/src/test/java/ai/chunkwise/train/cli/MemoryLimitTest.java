package ai.chunkwise.train.cli;

import ai.chunkwise.train.data.TinyDatasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train.memory.limit reaches JavaCPP without any -D flag (JavaCPP reads its limits once, so each case runs in a
 * JVM of its own), and running out of it ends with a message naming the budget and what to change, exit code 1
 * (failed while running), never an OutOfMemoryError's stack trace.
 */
class MemoryLimitTest {

    @Test
    void trainChecksItsEstimateAgainstTheBudget(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 2);

        // 150 MiB: below the run's estimate (the JVM and ND4J alone take more), refused at start-up
        Result refused = trainInNewJvm(tmp, modelConfig, ds, "150M");
        assertEquals(2, refused.code, refused.output);
        assertTrue(refused.output.contains("training needs about") && refused.output.contains(
                "the memory budget is 0.15 GiB (train.memory.limit"), refused.output);
        assertFalse(refused.output.contains("\tat ") || refused.output.contains("Exception in thread"), refused.output);

        // a generous budget: the same run trains
        Result ok = trainInNewJvm(tmp, modelConfig, ds, "8G");
        assertEquals(0, ok.code, ok.output);
        assertTrue(ok.output.contains("step 1/1"), ok.output);
    }

    /** grad checks only that the weights fit before it starts, so a small budget lets it run into JavaCPP's limit. */
    @Test
    void runningOutOfTheBudgetIsAClearError(@TempDir Path tmp) throws Exception {
        Path fixture = ai.chunkwise.train.checkpoint.HfFixtures.gqa();
        Result r = inNewJvm(List.of("grad", "--model", fixture.toString(), "--input",
                fixture.resolve("reference.safetensors").toString(), "--method", "seco", "--chunk-size", "64",
                "--out", tmp.resolve("g.safetensors").toString(), "--memory-limit", "150M"));
        assertEquals(1, r.code, r.output);
        assertTrue(r.output.contains("error: ran out of memory"), r.output);
        assertTrue(r.output.contains("maxPhysicalBytes (150M)"),
                "JavaCPP's limit is the budget, set without -D:\n" + r.output);
        assertTrue(r.output.contains("0.15 GiB (train.memory.limit = 150M)"), r.output);
        assertTrue(r.output.contains("train.method.chunk-size") && r.output.contains("raise train.memory.limit"),
                r.output);
        assertFalse(r.output.contains("\tat ") || r.output.contains("Exception in thread"), r.output);
    }

    private record Result(int code, String output) {
    }

    private static Result trainInNewJvm(Path tmp, Path modelConfig, Path ds, String limit) throws Exception {
        return inNewJvm(List.of("train", "--init-config", modelConfig.toString(), "--dataset", ds.toString(),
                "--out", tmp.resolve("out-" + limit).toString(), "--steps", "1", "--set", "train.method.chunk-size=8",
                "--set", "train.memory.limit=" + limit));
    }

    private static Result inNewJvm(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).forEach(cmd::add);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainCli.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS));
        return new Result(p.exitValue(), output);
    }
}
