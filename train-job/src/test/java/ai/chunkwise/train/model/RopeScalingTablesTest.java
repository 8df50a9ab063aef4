package ai.chunkwise.train.model;

import ai.chunkwise.train.checkpoint.SafeTensors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rotary tables of every RoPE scaling against transformers' own: rope-tables.safetensors holds, per setting,
 * the inv_freq buffer, attention_scaling and cos/sin that transformers 5.17's LlamaRotaryEmbedding computed (in
 * float32, after its forward over positions 0..L-1, so dynamic NTK has updated itself for L), and the same in
 * float64 from transformers' formulas (train-job/tools/make_family_fixtures.py). The config is read from a
 * config.json written with the fixture's parameters, so the parsing is checked on the way.
 */
class RopeScalingTablesTest {
    private static final Path TABLES = Path.of("src/test/resources/fixtures/hf-families/rope-tables.safetensors");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"linear", "dynamic-below", "dynamic-300", "dynamic-1000", "yarn", "yarn-qwen",
            "yarn-betas-attention", "yarn-mscale", "yarn-no-truncate", "llama3"})
    void tablesMatchTransformers(String name) throws IOException {
        Map<String, INDArray> t = SafeTensors.read(TABLES, DataType.DOUBLE);
        JsonNode meta = JSON.readTree(SafeTensors.readMetadata(TABLES).get(name));
        int length = meta.get("length").asInt();
        LlamaConfig config = LlamaConfig.fromJson(configJson(meta));

        // float32: transformers' rounding reproduced; pow/cos may differ by an ulp
        double[] inv32 = RotaryEmbedding.inverseFrequencies(config, true, length);
        double[] hfInv = t.get(name + ".inv_freq_hf32").toDoubleVector();
        assertEquals(hfInv.length, inv32.length);
        for (int i = 0; i < inv32.length; i++) {
            assertEquals(hfInv[i], inv32[i], 2 * Math.ulp((float) hfInv[i]), name + " float32 inv_freq[" + i + "]");
        }
        assertEquals(t.get(name + ".attention_scaling").getDouble(0), RotaryEmbedding.attentionFactor(config), 1e-15);
        double worst32 = worstTableError(new RotaryEmbedding(config, DataType.FLOAT).forSequence(length), length,
                t.get(name + ".cos_hf32"), t.get(name + ".sin_hf32"));
        // an inv_freq ulp times the position, then cos/sin rounding: position 1000 -> ~1e-4 at worst
        assertTrue(worst32 <= 1e-6 + 1.2e-7 * length, name + ": float32 tables off by " + worst32);

        // float64: the exact formulas, to rounding
        double[] inv64 = RotaryEmbedding.inverseFrequencies(config, false, length);
        double[] refInv = t.get(name + ".inv_freq_float64").toDoubleVector();
        for (int i = 0; i < inv64.length; i++) {
            assertEquals(refInv[i], inv64[i], 1e-13 * refInv[i], name + " float64 inv_freq[" + i + "]");
        }
        double worst64 = worstTableError(new RotaryEmbedding(config, DataType.DOUBLE).forSequence(length), length,
                t.get(name + ".cos_float64"), t.get(name + ".sin_float64"));
        assertTrue(worst64 <= 1e-11, name + ": float64 tables off by " + worst64);
        System.err.printf("%s: float32 tables %.1e, float64 tables %.1e%n", name, worst32, worst64);
    }

    private static double worstTableError(RotaryEmbedding rope, int length, INDArray cosRef, INDArray sinRef) {
        int d = rope.headDim();
        double[] cos = new double[d];
        double[] sin = new double[d];
        double worst = 0;
        for (int p = 0; p < length; p++) {
            rope.fill(p, cos, sin, 0);
            for (int i = 0; i < d; i++) {
                worst = Math.max(worst, Math.abs(cos[i] - cosRef.getDouble(p, i)));
                worst = Math.max(worst, Math.abs(sin[i] - sinRef.getDouble(p, i)));
            }
        }
        return worst;
    }

    /** A transformers 5.x config.json with the fixture's RoPE parameters (head_dim 16 as in the fixture). */
    private Path configJson(JsonNode meta) throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.put("model_type", "llama");
        c.put("vocab_size", 32);
        c.put("hidden_size", 64);
        c.put("intermediate_size", 32);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 4);
        c.put("head_dim", meta.get("head_dim").asInt());
        c.put("max_position_embeddings", meta.get("max_position_embeddings").asInt());
        c.set("rope_parameters", meta.get("rope_parameters"));
        Path file = dir.resolve("config.json");
        Files.writeString(file, c.toPrettyString());
        return file;
    }
}
