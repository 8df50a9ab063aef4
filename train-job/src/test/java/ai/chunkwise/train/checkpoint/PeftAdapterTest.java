package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaProjection;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeftAdapterTest {
    @TempDir
    Path dir;

    private static final LlamaConfig MODEL = new LlamaConfig(384, 64, 176, 3, 4, 2, 16, 1e-6, 10000.0, null, false, 4096, 1, 2);

    @Test
    void loadsTheFixtureAdapter() {
        PeftAdapter a = PeftAdapter.load(HfFixtures.gqaLora().resolve("adapter"), DataType.DOUBLE);
        assertEquals(new LoraConfig(4, 8.0, List.of("q_proj", "v_proj")), a.config());
        assertEquals(2.0, a.config().scaling(), 0.0);
        assertEquals(3, a.numLayers());
        assertEquals(12, a.tensors().size());
        INDArray b = a.tensors().get(PeftAdapter.tensorName(2, "v_proj", 'B'));
        assertArrayEquals(new long[] {32, 4}, b.shape());
        assertEquals(-0.3537243902683258, b.getDouble(0, 0), 0.0);   // numpy, from the raw file
        assertArrayEquals(new long[] {4, 64}, a.tensors().get(PeftAdapter.tensorName(0, "q_proj", 'A')).shape());
        a.requireCompatible(HfCheckpoint.load(HfFixtures.gqaLora(), DataType.DOUBLE).config());
        LlamaConfig otherWidth = new LlamaConfig(384, 32, 176, 3, 4, 2, 8, 1e-6, 10000.0, null, false, 4096, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> a.requireCompatible(otherWidth));
    }

    @Test
    void tensorNamesFollowPeft() {
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", PeftAdapter.tensorName(0, "q_proj", 'A'));
        assertEquals("base_model.model.model.layers.11.mlp.down_proj.lora_B.weight", PeftAdapter.tensorName(11, "down_proj", 'B'));
        assertThrows(IllegalArgumentException.class, () -> PeftAdapter.tensorName(0, "lm_head", 'A'));
        assertThrows(IllegalArgumentException.class, () -> PeftAdapter.tensorName(0, "q_proj", 'C'));
    }

    @Test
    void saveThenLoadRoundTrips() throws IOException {
        PeftAdapter fixture = PeftAdapter.load(HfFixtures.gqaLora().resolve("adapter"), DataType.FLOAT);
        Path out = dir.resolve("adapter");
        PeftAdapter.save(out, fixture.config(), fixture.tensors(), "tiny-llama-gqa-lora");
        PeftAdapter back = PeftAdapter.load(out, DataType.FLOAT);
        assertEquals(fixture.config(), back.config());
        assertEquals(fixture.tensors(), back.tensors());

        JsonNode json = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertEquals("LORA", json.get("peft_type").asText());
        assertEquals(4, json.get("r").asInt());
        assertTrue(json.get("lora_alpha").isInt(), "PEFT declares lora_alpha an int");
        assertEquals(8, json.get("lora_alpha").asInt());
        assertEquals("none", json.get("bias").asText());
        assertEquals("tiny-llama-gqa-lora", json.get("base_model_name_or_path").asText());
        assertEquals(List.of("q_proj", "v_proj"), List.of(json.get("target_modules").get(0).asText(),
                json.get("target_modules").get(1).asText()));
        assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(out.resolve("adapter_model.safetensors")));
    }

    @Test
    void initFollowsPeftDefaults() {
        LoraConfig lora = new LoraConfig(8, 16, List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"));
        PeftAdapter a = PeftAdapter.init(MODEL, lora, 7, DataType.DOUBLE);
        assertEquals(3 * 7 * 2, a.tensors().size());
        a.requireCompatible(MODEL);
        for (LlamaProjection p : LlamaProjection.values()) {
            INDArray aMatrix = a.tensors().get(PeftAdapter.tensorName(1, p.moduleName(), 'A'));
            INDArray bMatrix = a.tensors().get(PeftAdapter.tensorName(1, p.moduleName(), 'B'));
            int in = p == LlamaProjection.DOWN_PROJ ? 176 : 64;
            assertArrayEquals(new long[] {8, in}, aMatrix.shape());
            assertEquals(0.0, bMatrix.maxNumber().doubleValue());
            assertEquals(0.0, bMatrix.minNumber().doubleValue());
            double bound = 1 / Math.sqrt(in);   // kaiming_uniform(a=sqrt(5)) on [r, in]
            assertTrue(aMatrix.amaxNumber().doubleValue() <= bound);
        }
        // U(-b, b) has mean 0 and variance b^2/3; check on all q_proj A entries (3 x 8 x 64 = 1536 draws)
        INDArray all = Nd4j.concat(0, a.tensors().get(PeftAdapter.tensorName(0, "q_proj", 'A')),
                a.tensors().get(PeftAdapter.tensorName(1, "q_proj", 'A')), a.tensors().get(PeftAdapter.tensorName(2, "q_proj", 'A')));
        double b2over3 = 1.0 / 64 / 3;
        assertEquals(0.0, all.meanNumber().doubleValue(), 4 * Math.sqrt(b2over3 / 1536));
        assertEquals(b2over3, all.varNumber().doubleValue(), 0.1 * b2over3);

        assertEquals(a.tensors(), PeftAdapter.init(MODEL, lora, 7, DataType.DOUBLE).tensors(), "same seed, same adapter");
        assertNotEquals(a.tensors(), PeftAdapter.init(MODEL, lora, 8, DataType.DOUBLE).tensors());
        assertEquals(DataType.FLOAT, PeftAdapter.init(MODEL, lora, 7, DataType.FLOAT)
                .tensors().get(PeftAdapter.tensorName(0, "q_proj", 'A')).dataType());
    }

    @Test
    void rejectsUnsupportedConfigs() throws IOException {
        assertConfigRejected("\"peft_type\": \"LORA\"", "\"peft_type\": \"PREFIX_TUNING\"", "only LORA");
        assertConfigRejected("\"use_dora\": false", "\"use_dora\": true", "DoRA");
        assertConfigRejected("\"use_rslora\": false", "\"use_rslora\": true", "rank-stabilised");
        assertConfigRejected("\"bias\": \"none\"", "\"bias\": \"all\"", "bias \"all\"");
        assertConfigRejected("\"v_proj\"", "\"lm_head\"", "target module \"lm_head\" is not supported");
        assertConfigRejected("\"rank_pattern\": {}", "\"rank_pattern\": {\"q_proj\": 8}", "per-module ranks");
    }

    @Test
    void rejectsMissingMisshapenOrStrayTensors() throws IOException {
        LinkedHashMap<String, INDArray> tensors = SafeTensors.read(
                HfFixtures.gqaLora().resolve("adapter/adapter_model.safetensors"), DataType.FLOAT);
        String qB1 = PeftAdapter.tensorName(1, "q_proj", 'B');

        Map<String, INDArray> missing = new LinkedHashMap<>(tensors);
        missing.remove(qB1);
        assertTensorsRejected(missing, "lacks LoRA tensor \"" + qB1 + "\"");

        Map<String, INDArray> wrongRank = new LinkedHashMap<>(tensors);
        wrongRank.put(PeftAdapter.tensorName(0, "v_proj", 'A'), Nd4j.zeros(DataType.FLOAT, 3, 64));
        assertTensorsRejected(wrongRank, "has shape [3, 64] but lora_A must be [r=4, in]");

        Map<String, INDArray> inconsistent = new LinkedHashMap<>(tensors);
        inconsistent.put(qB1, Nd4j.zeros(DataType.FLOAT, 32, 4));
        assertTensorsRejected(inconsistent, "has shape [32, 4] but layer 0's has [64, 4]");

        Map<String, INDArray> untargeted = new LinkedHashMap<>(tensors);
        untargeted.put(PeftAdapter.tensorName(0, "k_proj", 'A'), Nd4j.zeros(DataType.FLOAT, 4, 64));
        assertTensorsRejected(untargeted, "adapts module \"k_proj\", which is not among the target modules");

        Map<String, INDArray> stray = new LinkedHashMap<>(tensors);
        stray.put("base_model.model.lm_head.weight", Nd4j.zeros(DataType.FLOAT, 384, 64));
        assertTensorsRejected(stray, "\"base_model.model.lm_head.weight\" is not a LoRA A/B weight");
    }

    private void assertConfigRejected(String from, String to, String fragment) throws IOException {
        Path adapter = copyFixtureAdapter();
        Path config = adapter.resolve("adapter_config.json");
        String json = Files.readString(config);
        assertTrue(json.contains(from), from);
        Files.writeString(config, json.replace(from, to));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, DataType.FLOAT));
        assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains(fragment),
                "expected file and \"" + fragment + "\" in: " + e.getMessage());
    }

    private void assertTensorsRejected(Map<String, INDArray> tensors, String fragment) throws IOException {
        Path adapter = copyFixtureAdapter();
        Path weights = adapter.resolve("adapter_model.safetensors");
        SafeTensors.write(weights, tensors, null, DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PeftAdapter.load(adapter, DataType.FLOAT));
        assertTrue(e.getMessage().contains(weights.toString()) && e.getMessage().contains(fragment),
                "expected file and \"" + fragment + "\" in: " + e.getMessage());
        LoraConfig config = new LoraConfig(4, 8, List.of("q_proj", "v_proj"));
        assertThrows(IllegalArgumentException.class, () -> PeftAdapter.save(dir.resolve("never"), config, tensors, null));
        assertTrue(Files.notExists(dir.resolve("never")));
    }

    private Path copyFixtureAdapter() throws IOException {
        Path adapter = Files.createTempDirectory(dir, "adapter");
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors")) {
            Files.copy(HfFixtures.gqaLora().resolve("adapter").resolve(f), adapter.resolve(f));
        }
        return adapter;
    }
}
