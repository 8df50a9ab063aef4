package ai.chunkwise.train.reliability;

import ai.chunkwise.pipeline.lock.OutputLock;
import ai.chunkwise.pipeline.lock.OutputLockedException;
import ai.chunkwise.train.loop.TrainSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9's minor findings on the trainer's side: whole numbers, orphaned temporaries, one trainer per output. */
class OutputSafetyTest {

    @Test
    void aFractionalBatchSizeIsAnErrorNotTruncated(@TempDir Path tmp) {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.batch-size", "2.7");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
        assertEquals("'train.batch-size' must be a whole number, got 2.7", e.getMessage());
        o.put("train.batch-size", "4294967297");   // 2^32 + 1: an (int) cast would make it 1
        e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
        assertTrue(e.getMessage().contains("train.batch-size") && e.getMessage().contains("4294967297"), e.getMessage());
        o.put("train.batch-size", "2.0");
        assertEquals(2, TrainSettings.load(null, o).batchSize());
        o.put("train.optimizer.lr", "1e400");   // found by the fault suite: parsed as infinity and accepted
        e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
        assertEquals("'train.optimizer.lr' must be a number in (0, 1] (AdamW's step size; usual values 1e-5 to 1e-2),"
                + " got Infinity", e.getMessage());
    }

    @Test
    void aFiniteButAbsurdLearningRateIsRefusedNamingTheKeyAndTheRange(@TempDir Path tmp) {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        for (String lr : List.of("1e6", "9.2e18", "1.5", "0", "-0.001")) {   // 9.2e18: accepted before (fault suite)
            o.put("train.optimizer.lr", lr);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
            assertTrue(e.getMessage().startsWith("'train.optimizer.lr' must be a number in (0, 1] ")
                    && e.getMessage().contains(", got ") && !e.getMessage().contains("\n"), e.getMessage());
        }
        o.put("train.optimizer.lr", "0.01");
        o.put("train.optimizer.min-lr", "2");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
        assertTrue(e.getMessage().startsWith("'train.optimizer.min-lr' must be a number in [0, 1] "), e.getMessage());
        // the ends of the ranges are accepted
        o.put("train.optimizer.lr", "1");
        o.put("train.optimizer.min-lr", "0");
        TrainSettings s = TrainSettings.load(null, o);
        assertEquals(1.0, s.optimizer().lr());
        assertEquals(0.0, s.optimizer().minLr());
        o.put("train.optimizer.lr", "1e-5");
        assertEquals(1e-5, TrainSettings.load(null, o).optimizer().lr());
    }

    @Test
    void aConfigJsonCutShortIsAOneLineError(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("config.json");
        Files.writeString(f, "{\"model_type\": \"llama\", \"hidden_");   // found by the fault suite
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ai.chunkwise.train.model.LlamaConfig.fromJson(f));
        assertTrue(e.getMessage().startsWith(f + " is not valid JSON") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void orphanedTemporariesOfAKilledRunAreRemovedOnceTheLockIsHeld(@TempDir Path tmp) throws Exception {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.steps", "1");
        TrainRuns.train(o, false);
        Path orphan = tmp.resolve("out/checkpoints/.step-000002.tmp-4242-123456789");
        Files.createDirectories(orphan.resolve("model"));
        Files.writeString(orphan.resolve("model/model.safetensors"), "half written");
        Path orphanLatest = tmp.resolve("out/checkpoints/.latest.tmp-4242-987654321");
        Files.writeString(orphanLatest, "step-000002");
        Path orphanMetrics = tmp.resolve("out/.metrics.jsonl.tmp-4242--55");   // System.nanoTime() may be negative
        Files.writeString(orphanMetrics, "{");
        Path notOurs = tmp.resolve("out/checkpoints/.notes.txt");
        Files.writeString(notOurs, "keep me");

        // while another trainer holds the output, nothing is touched
        try (OutputLock held = OutputLock.acquire(tmp.resolve("out"), "train", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class, () -> TrainRuns.train(o, true));
            assertTrue(e.getMessage().contains("in use by train (pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(Files.exists(orphan));
        }
        o.put("train.steps", "2");
        TrainRuns.Run r = TrainRuns.train(o, true);
        assertFalse(Files.exists(orphan));
        assertFalse(Files.exists(orphanLatest));
        assertFalse(Files.exists(orphanMetrics));
        assertTrue(Files.exists(notOurs), "only our own temporary names are removed");
        assertTrue(r.console().contains("removed " + orphan), r.console());
    }
}
