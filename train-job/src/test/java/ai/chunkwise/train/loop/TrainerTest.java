package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.config.UnknownConfigKeyException;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path modelConfig(Path dir) {
        Path file = dir.resolve("tiny-config.json");
        HfCheckpoint.writeConfig(TinyDatasets.tinyModel(), file);
        return file;
    }

    private static Map<String, String> base(Path tmp, Path out) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", quote(TinyDatasets.write(tmp.resolve("ds"), 6)));
        o.put("train.model.init-config", quote(modelConfig(tmp)));
        o.put("train.output", quote(out));
        return o;
    }

    private static String quote(Path p) {
        return com.typesafe.config.ConfigUtil.quoteString(p.toString());
    }

    private static ObjectNode train(Map<String, String> overrides, boolean resume, long stopAt) {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        return new Trainer(TrainSettings.load(null, overrides), quiet).run(resume, stopAt, false);
    }

    @Test
    void aFewStepsReduceTheLossOnARepeatedDataset(@TempDir Path tmp) throws IOException {
        Map<String, String> o = base(tmp, tmp.resolve("out"));
        o.put("train.steps", "25");
        o.put("train.optimizer.lr", "0.02");
        o.put("train.optimizer.warmup-steps", "2");
        o.put("train.checkpoint-every", "0");
        ObjectNode report = train(o, false, Long.MAX_VALUE);

        List<String> lines = Files.readAllLines(tmp.resolve("out").resolve(MetricsLog.FILE_NAME));
        assertEquals(25, lines.size(), "one metrics line per step");
        double first = JSON.readTree(lines.get(0)).get("loss").asDouble();
        double last = JSON.readTree(lines.get(24)).get("loss").asDouble();
        // a uniform guess over 32 ids costs ln 32 = 3.47 nats; the pattern is learnable far below that
        assertTrue(Math.abs(first - Math.log(32)) < 0.3, "a fresh model starts near ln(vocab): " + first);
        assertTrue(last < 0.5 * first, "loss fell from " + first + " to " + last);
        assertEquals("complete", report.get("status").asText());
        assertEquals(25, report.get("loss_curve").size());
        assertTrue(Files.isRegularFile(tmp.resolve("out/checkpoints/step-000025/model/model.safetensors")),
                "the last step is always checkpointed");
        assertTrue(Files.isRegularFile(tmp.resolve("out/report.json")));
        JsonNode m = JSON.readTree(lines.get(3));
        for (String key : List.of("step", "loss", "lr", "grad_norm", "tokens_per_s", "physical_bytes")) {
            assertTrue(m.has(key), "metrics carry " + key + ": " + m);
        }
        assertEquals(4, m.get("step").asInt());
        assertEquals(0.02 * (1 + Math.cos(Math.PI * 1 / 23.0)) / 2, m.get("lr").asDouble(), 1e-15,
                "step index 3 = 1 step after a 2-step warm-up into a 23-step cosine");
    }

    @Test
    void resumingFromACheckpointGivesBitIdenticalParametersToAnUninterruptedRun(@TempDir Path tmp) throws IOException {
        Map<String, String> common = base(tmp, tmp.resolve("whole"));
        // two weighted sources, streamed through a small shuffle buffer: the split falls mid-epoch of both
        Path second = TinyDatasets.write(tmp.resolve("ds2"), 5);
        common.put("train.data.sources", "[{path = " + common.remove("train.data.dataset") + ", weight = 2}, {path = "
                + quote(second) + ", weight = 1}]");
        common.put("train.data.shuffle-buffer", "3");
        common.put("train.model.dtype", "float64");
        common.put("train.method.name", "spaco");   // random chunk draws must resume too
        common.put("train.method.budget", "1");
        common.put("train.batch-size", "2");
        common.put("train.accumulation-steps", "2");   // 4 sequences a step: the order wraps into a new epoch
        common.put("train.steps", "4");
        common.put("train.checkpoint-every", "2");
        common.put("train.optimizer.lr", "0.01");
        common.put("train.optimizer.warmup-steps", "1");
        train(common, false, Long.MAX_VALUE);

        Map<String, String> split = new LinkedHashMap<>(common);
        split.put("train.output", quote(tmp.resolve("split")));
        ObjectNode firstHalf = train(split, false, 2);
        assertEquals("stopped", firstHalf.get("status").asText());
        JsonNode position = JSON.readTree(tmp.resolve("split/checkpoints/step-000002/trainer_state.json").toFile())
                .get("data_position");
        assertEquals(8, position.get("drawn").asLong(), "2 steps x 2 micro-batches x 2 rows");
        assertTrue(position.get("sources").get(0).get("index").asLong() % 6 != 0
                        && position.get("sources").get(1).get("index").asLong() % 5 != 0,
                "the split is mid-epoch in both sources: " + position);
        ObjectNode secondHalf = train(split, true, Long.MAX_VALUE);
        assertEquals(2, secondHalf.get("resumed_from_step").asInt());

        for (String file : List.of("model/model.safetensors", "optimizer.safetensors", "trainer_state.json")) {
            byte[] whole = Files.readAllBytes(tmp.resolve("whole/checkpoints/step-000004").resolve(file));
            byte[] resumed = Files.readAllBytes(tmp.resolve("split/checkpoints/step-000004").resolve(file));
            assertArrayEquals(whole, resumed, file + " differs between the uninterrupted and the resumed run");
        }
        // and the run did train: the weights moved away from the initialisation
        Map<String, INDArray> init = RandomInit.weights(TinyDatasets.tinyModel(), 0, 0.02, DataType.DOUBLE);
        Map<String, INDArray> trained = HfCheckpoint.load(tmp.resolve("whole/checkpoints/step-000004/model"),
                DataType.DOUBLE).weights();
        assertFalse(init.get("model.layers.0.self_attn.q_proj.weight").equals(trained.get("model.layers.0.self_attn.q_proj.weight")));
        assertEquals(Files.readAllLines(tmp.resolve("whole/metrics.jsonl")).size(),
                Files.readAllLines(tmp.resolve("split/metrics.jsonl")).size());
    }

    @Test
    void aCorruptShardStopsTheRunNamingItAndKeepsEveryCheckpoint(@TempDir Path tmp) throws IOException {
        Map<String, String> o = base(tmp, tmp.resolve("out"));
        Path ds = TinyDatasets.write(tmp.resolve("ds12"), 12);   // shards of 4 rows: 100-103, 104-107, 108-111
        o.put("train.data.dataset", quote(ds));
        o.put("train.data.shuffle", "false");
        o.put("train.batch-size", "2");
        o.put("train.steps", "6");
        o.put("train.checkpoint-every", "1");
        o.put("train.keep-checkpoints", "0");
        ai.chunkwise.pipeline.format.Manifest m = ai.chunkwise.pipeline.format.Manifest.fromJson(
                Files.readString(ds.resolve("manifest.json")), "m");
        Path shard = ds.resolve(m.shards().get(2).path());
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(shard, bytes);

        ai.chunkwise.pipeline.format.DatasetException e = assertThrows(
                ai.chunkwise.pipeline.format.DatasetException.class, () -> train(o, false, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("checksum"), e.getMessage());
        // steps 1-3 read rows 100-105; step 4's last row needs the buffer's next row, from the corrupt shard
        String latest = Files.readString(tmp.resolve("out/checkpoints/latest")).trim();
        assertEquals("step-000003", latest);
        for (int step = 1; step <= 3; step++) {
            Path c = tmp.resolve("out/checkpoints/step-00000" + step);
            assertFalse(HfCheckpoint.load(c.resolve("model"), DataType.FLOAT).weights().isEmpty(), c + " loads");
            assertTrue(Files.readString(c.resolve("trainer_state.json")).contains("\"step\" : " + step));
        }
        assertEquals(3, Files.readAllLines(tmp.resolve("out/metrics.jsonl")).size());
    }

    @Test
    void loraTrainingWritesAPeftAdapterAndLeavesTheBaseAlone(@TempDir Path tmp) {
        LlamaConfig config = TinyDatasets.tinyModel();
        Path baseDir = tmp.resolve("base");
        HfCheckpoint.save(baseDir, config, RandomInit.weights(config, 5, 0.02, DataType.FLOAT));
        Map<String, String> o = base(tmp, tmp.resolve("out"));
        o.remove("train.model.init-config");
        o.put("train.model.path", quote(baseDir));
        o.put("train.lora.enabled", "true");
        o.put("train.lora.targets", "[q_proj, v_proj, down_proj]");
        o.put("train.steps", "2");
        o.put("train.optimizer.lr", "0.01");
        train(o, false, Long.MAX_VALUE);
        PeftAdapter adapter = PeftAdapter.load(tmp.resolve("out/checkpoints/step-000002/adapter"), DataType.FLOAT);
        assertEquals(List.of("q_proj", "v_proj", "down_proj"), adapter.config().targetModules());
        INDArray b = adapter.tensors().get(PeftAdapter.tensorName(0, "q_proj", 'B'));
        assertTrue(b.norm2Number().doubleValue() > 0, "B starts at 0 and must have been trained");
        assertFalse(Files.exists(tmp.resolve("out/checkpoints/step-000002/model")), "LoRA saves the adapter only");
    }

    @Test
    void anOutputWithCheckpointsIsNotOverwrittenWithoutResume(@TempDir Path tmp) {
        Map<String, String> o = base(tmp, tmp.resolve("out"));
        o.put("train.steps", "1");
        train(o, false, Long.MAX_VALUE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(o, false, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("--resume") && e.getMessage().contains("step-000001"), e.getMessage());
        ObjectNode again = train(o, true, Long.MAX_VALUE);
        assertEquals(1, again.get("resumed_from_step").asInt(), "a finished run resumes to nothing left to do");
    }

    @Test
    void strictConfigurationNamesTheBadKey(@TempDir Path tmp) throws IOException {
        Path conf = tmp.resolve("bad.conf");
        Files.writeString(conf, "train {\n  steps = 3\n  optimizer { learning-rate = 0.1 }\n}\n");
        UnknownConfigKeyException e = assertThrows(UnknownConfigKeyException.class,
                () -> TrainSettings.load(conf, Map.of()));
        assertTrue(e.getMessage().contains("'train.optimizer.learning-rate'") && e.getMessage().contains(conf.toString())
                && e.getMessage().contains("line 3"), e.getMessage());

        UnknownConfigKeyException cli = assertThrows(UnknownConfigKeyException.class,
                () -> TrainSettings.load(null, Map.of("train.step", "3")));
        assertTrue(cli.getMessage().contains("'train.step'") && cli.getMessage().contains("did you mean 'train.steps'"),
                cli.getMessage());

        Map<String, String> o = base(tmp, tmp.resolve("out"));
        o.put("train.model.path", quote(tmp));
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> TrainSettings.load(null, o));
        assertTrue(both.getMessage().contains("exactly one of train.model.path"), both.getMessage());

        IllegalArgumentException noData = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.load(null, Map.of("train.model.init-config", "x.json")));
        assertTrue(noData.getMessage().contains("train.data.dataset"), noData.getMessage());

        IllegalArgumentException sourceKey = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.load(null, Map.of("train.model.init-config", "x.json",
                        "train.data.sources", "[{path = a, weight = 1}, {path = b, wieght = 2}]")));
        assertTrue(sourceKey.getMessage().contains("train.data.sources[1]") && sourceKey.getMessage().contains("'wieght'"),
                sourceKey.getMessage());
        IllegalArgumentException bothData = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.load(null, Map.of("train.model.init-config", "x.json", "train.data.dataset", "d",
                        "train.data.sources", "[{path = a}]")));
        assertTrue(bothData.getMessage().contains("not both"), bothData.getMessage());
        TrainSettings two = TrainSettings.load(null, Map.of("train.model.init-config", "x.json",
                "train.data.sources", "[{path = \"hdfs://nn:8020/a\", weight = 3}, {path = b}]"));
        assertEquals(List.of(new ai.chunkwise.train.data.SourceSpec("hdfs://nn:8020/a", 3),
                new ai.chunkwise.train.data.SourceSpec("b", 1)), two.data().sources(), "a URI is kept as written");

        IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                () -> TrainSettings.load(null, Map.of("train.data.dataset", "d", "train.model.init-config", "x.json",
                        "train.method.name", "sec0")));
        assertTrue(method.getMessage().contains("'sec0'"), method.getMessage());
    }
}
