package ai.chunkwise.train.model;

import ai.chunkwise.train.checkpoint.HfFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaConfigTest {
    @TempDir
    Path dir;

    /** A transformers 4.x config.json in the shape of Llama 3.1 8B's (top-level rope_theta, rope_scaling). */
    private static final String LLAMA31_4X = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009],
              "hidden_act": "silu",
              "hidden_size": 4096,
              "intermediate_size": 14336,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
              },
              "rope_theta": 500000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.43.0.dev0",
              "vocab_size": 128256
            }""";

    private static final LlamaConfig LLAMA31 = new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000.0,
            new RopeScaling.Llama3(8.0, 1.0, 4.0, 8192), false, 131072, 128000, 128001);

    @Test
    void readsTransformers5FormOfTheFixture() {
        LlamaConfig c = LlamaConfig.fromJson(HfFixtures.gqa().resolve("config.json"));
        assertEquals(new LlamaConfig(384, 64, 176, 3, 4, 2, 16, 1e-6, 10000.0, null, false, 4096, 1, 2), c);
        assertEquals(64, c.queryDim());
        assertEquals(32, c.keyValueDim());
    }

    @Test
    void readsTransformers4FormWithLlama3Scaling() throws IOException {
        // head_dim absent -> 4096 / 32; eos_token_id a list -> its first id
        assertEquals(LLAMA31, LlamaConfig.fromJson(write(LLAMA31_4X)));
        // old spelling "type" instead of "rope_type"
        assertEquals(LLAMA31, LlamaConfig.fromJson(write(LLAMA31_4X.replace("\"rope_type\": \"llama3\"", "\"type\": \"llama3\""))));
    }

    @Test
    void readsTransformers5FormWithLlama3Parameters() throws IOException {
        String v5 = LLAMA31_4X
                .replace("\"rope_theta\": 500000.0,", "")
                .replace("\"rope_scaling\": {", "\"rope_parameters\": {\"rope_theta\": 500000.0,");
        assertEquals(LLAMA31, LlamaConfig.fromJson(write(v5)));
    }

    @Test
    void appliesTransformersDefaultsForOptionalKeys() throws IOException {
        LlamaConfig c = LlamaConfig.fromJson(write("""
                {"model_type": "llama", "vocab_size": 100, "hidden_size": 48, "intermediate_size": 96,
                 "num_hidden_layers": 2, "num_attention_heads": 6}"""));
        assertEquals(new LlamaConfig(100, 48, 96, 2, 6, 6, 8, 1e-6, 10000.0, null, false, 2048, -1, -1), c);
    }

    @Test
    void writeJsonRoundTripsAndCarriesBothRopeSpellings() throws IOException {
        Path file = dir.resolve("out/config.json");
        ai.chunkwise.train.checkpoint.HfCheckpoint.writeConfig(LLAMA31, file);
        assertEquals(LLAMA31, LlamaConfig.fromJson(file));
        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals("LlamaForCausalLM", json.get("architectures").get(0).asText());
        assertEquals(500000.0, json.get("rope_theta").asDouble());
        assertEquals("llama3", json.get("rope_scaling").get("rope_type").asText());
        assertEquals(500000.0, json.get("rope_parameters").get("rope_theta").asDouble());
        assertEquals(8.0, json.get("rope_parameters").get("factor").asDouble());

        LlamaConfig plain = new LlamaConfig(384, 64, 176, 3, 4, 2, 16, 1e-6, 10000.0, null, true, 4096, -1, -1);
        ai.chunkwise.train.checkpoint.HfCheckpoint.writeConfig(plain, file);
        assertEquals(plain, LlamaConfig.fromJson(file));
        json = new ObjectMapper().readTree(file.toFile());
        assertTrue(json.get("rope_scaling").isNull());
        assertEquals("default", json.get("rope_parameters").get("rope_type").asText());
        assertTrue(json.get("eos_token_id").isNull());
    }

    @Test
    void rejectsOtherArchitecturesAndUnsupportedFeatures() throws IOException {
        assertRejected(LLAMA31_4X.replace("\"LlamaForCausalLM\"", "\"MistralForCausalLM\""), "only [\"LlamaForCausalLM\"]");
        assertRejected(LLAMA31_4X.replace("\"model_type\": \"llama\"", "\"model_type\": \"mistral\""), "only [\"MistralForCausalLM\"]");
        assertRejected(LLAMA31_4X.replace("\"model_type\": \"llama\"", "\"model_type\": \"falcon\""), "model_type \"falcon\"");
        assertRejected(LLAMA31_4X.replace("\"model_type\": \"llama\",", ""), "missing required key \"model_type\"");
        assertRejected(LLAMA31_4X.replace("\"attention_bias\": false", "\"attention_bias\": true"), "attention_bias");
        assertRejected(LLAMA31_4X.replace("\"mlp_bias\": false", "\"mlp_bias\": true"), "mlp_bias");
        assertRejected(LLAMA31_4X.replace("\"silu\"", "\"gelu\""), "hidden_act \"gelu\"");
        assertRejected(LLAMA31_4X.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5"),
                "not a multiple of num_key_value_heads 5");
        assertRejected(LLAMA31_4X.replace("\"rope_type\": \"llama3\"", "\"rope_type\": \"longrope\""), "RoPE type \"longrope\"");
        assertRejected(LLAMA31_4X.replace("\"factor\": 8.0,", ""), "missing required key \"rope_scaling.factor\"");
        assertRejected(LLAMA31_4X.replace("\"hidden_size\": 4096,", ""), "missing required key \"hidden_size\"");
        assertRejected(LLAMA31_4X.replace("\"vocab_size\": 128256", "\"vocab_size\": \"big\""), "\"vocab_size\": \"big\"");
        assertRejected(LLAMA31_4X.replace("\"vocab_size\": 128256", "\"vocab_size\": 1000"), "below vocab_size 1000");
        assertRejected("{\"model_type\": ", "not valid JSON");
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope/config.json");
        Exception e = assertThrows(RuntimeException.class, () -> LlamaConfig.fromJson(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void ropeScalingParametersAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new RopeScaling.Linear(0.5));
        assertThrows(IllegalArgumentException.class, () -> new RopeScaling.Llama3(8, 4, 1, 8192));
        assertNull(LlamaConfig.fromJson(HfFixtures.gqa().resolve("config.json")).ropeScaling());
    }

    private void assertRejected(String json, String fragment) throws IOException {
        Path file = write(json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(file));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "says what (" + fragment + "): " + e.getMessage());
    }

    private Path write(String json) throws IOException {
        Path file = Files.createTempFile(dir, "config", ".json");
        Files.writeString(file, json);
        return file;
    }
}
