package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
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

class HfCheckpointTest {
    @TempDir
    Path dir;

    private static final LlamaConfig FIXTURE_CONFIG =
            new LlamaConfig(384, 64, 176, 3, 4, 2, 16, 1e-6, 10000.0, null, false, 4096, 1, 2);

    @Test
    void loadsTheFixtureWithEveryTensorOfTheConfig() {
        HfCheckpoint ckpt = HfCheckpoint.load(HfFixtures.gqa(), DataType.DOUBLE);
        assertEquals(FIXTURE_CONFIG, ckpt.config());
        Map<String, INDArray> w = ckpt.weights();
        assertEquals(2 + 3 * 9 + 1, w.size());
        assertEquals("model.embed_tokens.weight", w.keySet().iterator().next(), "module order");
        assertArrayEquals(new long[] {384, 64}, w.get("lm_head.weight").shape());
        assertArrayEquals(new long[] {64, 64}, w.get("model.layers.2.self_attn.q_proj.weight").shape());
        assertArrayEquals(new long[] {32, 64}, w.get("model.layers.2.self_attn.k_proj.weight").shape());
        assertArrayEquals(new long[] {176, 64}, w.get("model.layers.1.mlp.gate_proj.weight").shape());
        assertArrayEquals(new long[] {64, 176}, w.get("model.layers.0.mlp.down_proj.weight").shape());
        assertEquals(DataType.DOUBLE, w.get("model.norm.weight").dataType());
        // value taken with numpy from the raw file
        assertEquals(-0.30564379692077637, w.get("model.layers.1.self_attn.k_proj.weight").getDouble(0, 0), 0.0);
    }

    @Test
    void saveThenLoadGivesIdenticalTensors() throws IOException {
        HfCheckpoint original = HfCheckpoint.load(HfFixtures.gqa(), DataType.FLOAT);
        Path out = dir.resolve("saved");
        HfCheckpoint.save(out, original.config(), original.weights());
        try (var files = Files.list(out)) {
            assertEquals(List.of("config.json", "model.safetensors"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        HfCheckpoint back = HfCheckpoint.load(out, DataType.FLOAT);
        assertEquals(original.config(), back.config());
        assertEquals(original.weights().keySet(), back.weights().keySet());
        original.weights().forEach((k, v) -> assertEquals(v, back.weights().get(k), k));
        // saving again into the existing directory replaces the files in place
        HfCheckpoint.save(out, original.config(), original.weights());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary directory is left behind");
        }
    }

    @Test
    void tiedEmbeddingsHaveNoLmHead() {
        LlamaConfig tied = new LlamaConfig(32, 8, 16, 1, 2, 1, 4, 1e-5, 10000.0, null, true, 64, -1, -1);
        Map<String, INDArray> w = new LinkedHashMap<>();
        LlamaTensorLayout.expectedShapes(tied).forEach((k, s) -> w.put(k, Nd4j.rand(DataType.FLOAT, s)));
        assertFalse(w.containsKey("lm_head.weight"));
        Path out = dir.resolve("tied");
        HfCheckpoint.save(out, tied, w);
        assertEquals(w, HfCheckpoint.load(out, DataType.FLOAT).weights());

        Map<String, INDArray> withHead = new LinkedHashMap<>(w);
        withHead.put("lm_head.weight", Nd4j.rand(DataType.FLOAT, 32, 8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.save(out, tied, withHead));
        assertTrue(e.getMessage().contains("tied to the embeddings"), e.getMessage());
    }

    @Test
    void loadsShardedCheckpoints() throws IOException {
        LinkedHashMap<String, INDArray> all = SafeTensors.read(HfFixtures.gqa().resolve("model.safetensors"), DataType.FLOAT);
        Path sharded = dir.resolve("sharded");
        Files.createDirectories(sharded);
        Files.copy(HfFixtures.gqa().resolve("config.json"), sharded.resolve("config.json"));
        Map<String, INDArray> first = new LinkedHashMap<>();
        Map<String, INDArray> second = new LinkedHashMap<>();
        StringBuilder weightMap = new StringBuilder();
        for (String name : all.keySet()) {
            boolean inFirst = name.startsWith("model.layers.0.") || name.startsWith("model.embed");
            (inFirst ? first : second).put(name, all.get(name));
            String shard = inFirst ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            weightMap.append(weightMap.length() == 0 ? "" : ",").append('"').append(name).append("\":\"").append(shard).append('"');
        }
        SafeTensors.write(sharded.resolve("model-00001-of-00002.safetensors"), first, null, DataType.FLOAT);
        SafeTensors.write(sharded.resolve("model-00002-of-00002.safetensors"), second, null, DataType.FLOAT);
        Path index = sharded.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\":{\"total_size\":751360},\"weight_map\":{" + weightMap + "}}");

        HfCheckpoint ckpt = HfCheckpoint.load(sharded, DataType.FLOAT);
        assertEquals(all.size(), ckpt.weights().size());
        all.forEach((k, v) -> assertEquals(v, ckpt.weights().get(k), k));

        // an index that places a tensor in the wrong shard is reported with both names
        Files.writeString(index, Files.readString(index).replace(
                "\"model.norm.weight\":\"model-00002-of-00002.safetensors\"",
                "\"model.norm.weight\":\"model-00001-of-00002.safetensors\""));
        assertRejected(sharded, "\"model.norm.weight\"", "model-00001-of-00002.safetensors, but that shard does not contain it");
        Files.writeString(index, "{\"weight_map\":{\"model.norm.weight\":\"../escape.safetensors\"}}");
        assertRejected(sharded, "\"model.norm.weight\"", "not a file name in");
    }

    @Test
    void rejectsMissingTensorsWrongShapesAndOtherArchitectures() throws IOException {
        LinkedHashMap<String, INDArray> all = SafeTensors.read(HfFixtures.gqa().resolve("model.safetensors"), DataType.FLOAT);
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(HfFixtures.gqa().resolve("config.json"), broken.resolve("config.json"));

        Map<String, INDArray> missing = new LinkedHashMap<>(all);
        missing.remove("model.layers.1.mlp.up_proj.weight");
        SafeTensors.write(broken.resolve("model.safetensors"), missing, null, DataType.FLOAT);
        assertRejected(broken, "model.layers.1.mlp.up_proj.weight", "lacks 1 tensor(s)");

        Map<String, INDArray> wrongShape = new LinkedHashMap<>(all);
        wrongShape.put("model.layers.2.self_attn.v_proj.weight", Nd4j.zeros(DataType.FLOAT, 64, 64));
        SafeTensors.write(broken.resolve("model.safetensors"), wrongShape, null, DataType.FLOAT);
        assertRejected(broken, "\"model.layers.2.self_attn.v_proj.weight\"", "has shape [64, 64] but");
        assertRejected(broken, "[32, 64]", "model.safetensors");

        Map<String, INDArray> extra = new LinkedHashMap<>(all);   // e.g. exports that kept RoPE buffers: warned, ignored
        extra.put("model.layers.0.self_attn.rotary_emb.inv_freq", Nd4j.ones(DataType.FLOAT, 8));
        SafeTensors.write(broken.resolve("model.safetensors"), extra, null, DataType.FLOAT);
        assertEquals(all.keySet(), HfCheckpoint.load(broken, DataType.FLOAT).weights().keySet());

        Files.writeString(broken.resolve("config.json"), Files.readString(broken.resolve("config.json"))
                .replace("LlamaForCausalLM", "Qwen2ForCausalLM"));
        assertRejected(broken, "config.json", "only [\"LlamaForCausalLM\"] is supported");

        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        Files.copy(HfFixtures.gqa().resolve("config.json"), empty.resolve("config.json"));
        Files.writeString(empty.resolve("pytorch_model.bin"), "pickle");
        assertRejected(empty, "model.safetensors", "convert them to safetensors");
        assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.load(dir.resolve("nowhere"), DataType.FLOAT));
    }

    @Test
    void saveRefusesIncompleteOrMisshapenWeights() {
        Map<String, INDArray> w = new LinkedHashMap<>(HfCheckpoint.load(HfFixtures.gqa(), DataType.FLOAT).weights());
        w.remove("model.norm.weight");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HfCheckpoint.save(dir.resolve("x"), FIXTURE_CONFIG, w));
        assertTrue(e.getMessage().contains("\"model.norm.weight\" is missing"), e.getMessage());
        w.put("model.norm.weight", Nd4j.ones(DataType.FLOAT, 65));
        e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.save(dir.resolve("x"), FIXTURE_CONFIG, w));
        assertTrue(e.getMessage().contains("has shape [65], the config implies [64]"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x")));
    }

    private static void assertRejected(Path modelDir, String fragment1, String fragment2) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfCheckpoint.load(modelDir, DataType.FLOAT));
        assertTrue(e.getMessage().contains(fragment1) && e.getMessage().contains(fragment2),
                "expected \"" + fragment1 + "\" and \"" + fragment2 + "\" in: " + e.getMessage());
    }
}
