package ai.chunkwise.train.reliability;

import ai.chunkwise.train.checkpoint.CheckpointChecksums;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.CheckpointStore;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.loop.TrainerState;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, finding 2: a diverged run fails, rotation keeps the last good state, damaged checkpoints are caught. */
class CheckpointHealthTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRunWhoseStepsAreAllNonFiniteStopsWithDivergedStatus(@TempDir Path tmp) throws IOException {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.model.init-std", "1e30");   // float32 logits overflow: every loss and gradient is non-finite
        o.put("train.steps", "8");
        o.put("train.max-nonfinite-steps", "3");
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> TrainRuns.train(o, false));
        assertTrue(e.getMessage().contains("3 consecutive") && e.getMessage().contains("train.max-nonfinite-steps"),
                e.getMessage());
        var report = JSON.readTree(tmp.resolve("out/report.json").toFile());
        assertEquals("diverged", report.get("status").asText());
        assertEquals(3, report.get("steps_done").asInt());
        assertEquals(3, Files.readAllLines(tmp.resolve("out/metrics.jsonl")).size(), "the run stopped at step 3");
    }

    @Test
    void theCliExitsNonZeroOnDivergence(@TempDir Path tmp) {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train"));
        o.forEach((k, v) -> args.add("--set=" + k + "=" + v));
        args.add("--set=train.model.init-std=1e30");
        args.add("--set=train.steps=4");
        args.add("--set=train.max-nonfinite-steps=2");
        var r = ai.chunkwise.train.cli.CommandRun.of(args.toArray(String[]::new));
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("diverged"), r.err());
    }

    @Test
    void rotationNeverDeletesTheNewestFiniteCheckpoint(@TempDir Path tmp) {
        CheckpointStore store = new CheckpointStore(tmp, 2);
        Map<String, INDArray> weights = RandomInit.weights(TinyDatasets.tinyModel(), 1, 0.02, DataType.FLOAT);
        Map<String, INDArray> opt = Map.of("step", Nd4j.scalar(1.0f));
        for (int step = 1; step <= 5; step++) {
            TrainerState st = new TrainerState(step, DataPosition.start(1), 0, 0, 0, 0, 0);
            boolean finite = step == 1;
            store.save(st, TinyDatasets.tinyModel(), null, null, weights, opt, DataType.FLOAT, "train {}\n",
                    ai.chunkwise.train.checkpoint.ModelExport.DEFAULT, finite, finite ? 1.0 : Double.NaN, null);
        }
        assertTrue(Files.isDirectory(tmp.resolve("checkpoints/step-000001")), "the only finite checkpoint is kept");
        assertFalse(Files.exists(tmp.resolve("checkpoints/step-000002")));
        assertFalse(Files.exists(tmp.resolve("checkpoints/step-000003")));
        assertTrue(Files.isDirectory(tmp.resolve("checkpoints/step-000004")));
        assertTrue(Files.isDirectory(tmp.resolve("checkpoints/step-000005")));
    }

    @Test
    void resumeAfterADivergenceTakesTheNewestFiniteCheckpoint(@TempDir Path tmp) {
        // issue #20, item 12: latest names a checkpoint of a non-finite step; --resume must not take it
        CheckpointStore store = new CheckpointStore(tmp, 0);
        Map<String, INDArray> weights = RandomInit.weights(TinyDatasets.tinyModel(), 1, 0.02, DataType.FLOAT);
        Map<String, INDArray> opt = Map.of("step", Nd4j.scalar(1.0f));
        for (int step = 1; step <= 4; step++) {
            TrainerState st = new TrainerState(step, DataPosition.start(1), 0, 0, 0, 0, 0);
            boolean finite = step <= 2;
            store.save(st, TinyDatasets.tinyModel(), null, null, weights, opt, DataType.FLOAT, "train {}\n",
                    ai.chunkwise.train.checkpoint.ModelExport.DEFAULT, finite, finite ? 1.0 : Double.NaN, null);
        }
        assertEquals(tmp.resolve("checkpoints/step-000004"), store.latest().orElseThrow());
        List<String> warnings = new ArrayList<>();
        CheckpointStore.Resumable r = store.resumable(DataType.FLOAT, warnings::add).orElseThrow();
        assertEquals("step-000002", r.directory().getFileName().toString());
        assertEquals(2, r.state().step());
        String all = String.join("\n", warnings);
        assertTrue(all.contains("step-000004, step-000003") && all.contains("finite: false")
                && all.contains("resuming from step-000002, the newest finite checkpoint"), all);
    }

    @Test
    void everyCheckpointFileHasItsSha256(@TempDir Path tmp) throws Exception {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.steps", "1");
        TrainRuns.train(o, false);
        Path c = tmp.resolve("out/checkpoints/step-000001");
        String list = Files.readString(c.resolve(CheckpointChecksums.FILE_NAME));
        for (String f : new String[] {"model/model.safetensors", "model/config.json", "optimizer.safetensors",
                "trainer_state.json", "train.conf", "health.json"}) {
            // independent reference: the JDK's SHA-256 of the file as it lies on disk
            String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(c.resolve(f))));
            assertTrue(list.contains(sha + "  " + f + "\n"), f + " missing or wrong in:\n" + list);
        }
    }

    @Test
    void aTruncatedNewestCheckpointFallsBackToThePreviousWithAWarning(@TempDir Path tmp) throws Exception {
        Map<String, String> o = twoCheckpoints(tmp);
        Path damaged = tmp.resolve("out/checkpoints/step-000002/optimizer.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(damaged.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        o.put("train.steps", "3");
        TrainRuns.Run r = TrainRuns.train(o, true);
        assertEquals(1, r.report().get("resumed_from_step").asInt());
        assertTrue(r.console().contains("step-000002") && r.console().contains("optimizer.safetensors")
                && r.console().contains("warning"), r.console());
    }

    @Test
    void aSilentlyAlteredWeightFileIsCaughtByItsChecksum(@TempDir Path tmp) throws Exception {
        Map<String, String> o = twoCheckpoints(tmp);
        Path weights = tmp.resolve("out/checkpoints/step-000002/model/model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {   // same size, one byte changed
            f.seek(f.length() - 3);
            int b = f.read();
            f.seek(f.length() - 3);
            f.write(b ^ 0x40);
        }
        TrainRuns.Run r = TrainRuns.train(o, true);
        assertEquals(1, r.report().get("resumed_from_step").asInt());
        assertTrue(r.console().contains("model/model.safetensors fails its SHA-256"), r.console());
    }

    @Test
    void nonFiniteOptimizerStateIsRefused(@TempDir Path tmp) throws Exception {
        Map<String, String> o = twoCheckpoints(tmp);
        Path c = tmp.resolve("out/checkpoints/step-000002");
        Map<String, INDArray> state = new LinkedHashMap<>(SafeTensors.read(c.resolve("optimizer.safetensors"), DataType.FLOAT));
        String key = state.keySet().stream().filter(k -> k.startsWith("exp_avg_sq.")).findFirst().orElseThrow();
        INDArray poisoned = state.get(key).dup();
        poisoned.putScalar(0, Double.NaN);
        state.put(key, poisoned);
        Files.delete(c.resolve("optimizer.safetensors"));
        SafeTensors.write(c.resolve("optimizer.safetensors"), state, Map.of("format", "pt"), DataType.FLOAT);
        CheckpointChecksums.write(c);   // checksums that match: only the finite check can catch it
        TrainRuns.Run r = TrainRuns.train(o, true);
        assertEquals(1, r.report().get("resumed_from_step").asInt());
        assertTrue(r.console().contains(key) && r.console().contains("NaN"), r.console());
    }

    @Test
    void whenEveryCheckpointIsDamagedResumeRefusesNamingThem(@TempDir Path tmp) throws Exception {
        Map<String, String> o = twoCheckpoints(tmp);
        for (String step : new String[] {"step-000001", "step-000002"}) {
            Files.writeString(tmp.resolve("out/checkpoints/" + step + "/trainer_state.json"), "{");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainRuns.train(o, true));
        assertTrue(e.getMessage().contains("step-000001") && e.getMessage().contains("step-000002"), e.getMessage());
    }

    private static Map<String, String> twoCheckpoints(Path tmp) {
        Map<String, String> o = TrainRuns.base(tmp, tmp.resolve("out"));
        o.put("train.steps", "2");
        o.put("train.checkpoint-every", "1");
        TrainRuns.train(o, false);
        return o;
    }

    @Test
    void checksumsCoverShardsIndexTokenizerFilesAndMasterWeights(@TempDir Path tmp) throws Exception {
        Path tok = Files.createDirectories(tmp.resolve("tok"));
        Files.writeString(tok.resolve("tokenizer.json"), "{\"model\": {}}");
        Files.writeString(tok.resolve("tokenizer_config.json"), "{}");
        CheckpointStore store = new CheckpointStore(tmp.resolve("out"), 0);
        Map<String, INDArray> weights = RandomInit.weights(TinyDatasets.tinyModel(), 1, 0.02, DataType.FLOAT);
        // bf16 model/ from float32 training: master weights kept; a 4 kB shard limit: several shards + index
        Path cp = store.save(new TrainerState(1, DataPosition.start(1), 0, 0, 0, 0, 0), TinyDatasets.tinyModel(), null,
                null, weights, Map.of("step", Nd4j.scalar(1.0f)), DataType.FLOAT, "train {}\n",
                new ai.chunkwise.train.checkpoint.ModelExport("bfloat16", 4_000, null, tok), true, 1.0, null);
        String listed = Files.readString(cp.resolve(CheckpointChecksums.FILE_NAME));
        java.util.List<String> expected = new java.util.ArrayList<>(java.util.List.of("model/model.safetensors.index.json",
                "model/tokenizer.json", "model/tokenizer_config.json", "master_weights.safetensors",
                "optimizer.safetensors", "trainer_state.json", "train.conf", "health.json"));
        try (var shards = Files.list(cp.resolve("model"))) {
            shards.map(f -> "model/" + f.getFileName())
                    .filter(n -> n.matches("model/model-\\d{5}-of-\\d{5}\\.safetensors")).forEach(expected::add);
        }
        assertTrue(expected.size() > 9, "sharded: " + expected);
        for (String name : expected) {
            Path f = cp.resolve(name);
            assertTrue(Files.isRegularFile(f), name + " written");
            String sha = java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
            assertTrue(listed.contains(sha + "  " + name + "\n"), name + " listed with its SHA-256:\n" + listed);
        }
        // a damaged shard is found on resume
        Path shard = cp.resolve(expected.get(expected.size() - 1));
        byte[] b = Files.readAllBytes(shard);
        b[b.length - 1] ^= 1;
        Files.write(shard, b);
        assertThrows(IllegalArgumentException.class, () -> store.resumable(DataType.FLOAT, m -> { }));
    }
}
