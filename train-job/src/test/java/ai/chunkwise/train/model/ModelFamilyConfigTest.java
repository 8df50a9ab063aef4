package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json of the supported families as their checkpoints ship them, what is refused and why, and the way back. */
class ModelFamilyConfigTest {
    @TempDir
    Path dir;

    /** Qwen2.5-7B-Instruct's config.json (transformers 4.x): sliding_window is set but off (use_sliding_window false). */
    static final String QWEN25_7B = """
            {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
             "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02,
             "intermediate_size": 18944, "max_position_embeddings": 32768, "max_window_layers": 28,
             "model_type": "qwen2", "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
             "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 131072, "tie_word_embeddings": false,
             "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 152064}""";

    /** Qwen3-0.6B's: head_dim 128 with 16 heads, so q_proj is 2048 wide for hidden 1024. */
    static final String QWEN3_06B = """
            {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
             "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
             "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
             "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
             "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
             "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true,
             "use_sliding_window": false, "vocab_size": 151936}""";

    /** Mistral-7B-v0.1's: a 4096-position sliding window. */
    static final String MISTRAL_V01 = """
            {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
             "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
             "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
             "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
             "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000}""";

    @Test
    void readsQwen25() throws IOException {
        LlamaConfig c = LlamaConfig.fromJson(write(QWEN25_7B));
        assertEquals(new LlamaConfig(152064, 3584, 18944, 28, 28, 4, 128, 1e-6, 1e6, null, false, 32768, 151643, 151645,
                ModelFamily.QWEN2, 0), c);
        // the Qwen2.5 model card's YaRN for 128K tokens, in its 4.x form ("type")
        LlamaConfig yarn = LlamaConfig.fromJson(write(QWEN25_7B.replace("\"rope_theta\": 1000000.0,",
                "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, \"type\": \"yarn\"},")));
        assertEquals(RopeScaling.Yarn.of(4.0, 32768), yarn.ropeScaling());
        assertEquals(1 + 0.1 * Math.log(4), ((RopeScaling.Yarn) yarn.ropeScaling()).effectiveAttentionFactor(), 1e-15);
    }

    @Test
    void readsQwen3AndMistral() throws IOException {
        assertEquals(new LlamaConfig(151936, 1024, 3072, 28, 16, 8, 128, 1e-6, 1e6, null, true, 40960, 151643, 151645,
                ModelFamily.QWEN3, 0), LlamaConfig.fromJson(write(QWEN3_06B)));
        assertEquals(new LlamaConfig(32000, 4096, 14336, 32, 32, 8, 128, 1e-5, 10000.0, null, false, 32768, 1, 2,
                ModelFamily.MISTRAL, 4096), LlamaConfig.fromJson(write(MISTRAL_V01)));
        // v0.2 on: no window
        assertEquals(0, LlamaConfig.fromJson(write(MISTRAL_V01.replace("\"sliding_window\": 4096", "\"sliding_window\": null"))).slidingWindow());
        // no key at all: transformers' MistralConfig default, 4096
        assertEquals(4096, LlamaConfig.fromJson(write(MISTRAL_V01.replace("\"sliding_window\": 4096,", ""))).slidingWindow());
    }

    @Test
    void tensorLayoutHasQwen2BiasesAndQwen3Norms() throws IOException {
        var qwen2 = LlamaTensorLayout.expectedShapes(LlamaConfig.fromJson(write(QWEN25_7B)));
        assertEquals(List.of(3584L), List.of(qwen2.get("model.layers.0.self_attn.q_proj.bias")[0]));
        assertEquals(512L, qwen2.get("model.layers.27.self_attn.k_proj.bias")[0]);     // 4 KV heads x 128
        assertEquals(512L, qwen2.get("model.layers.27.self_attn.v_proj.bias")[0]);
        assertNull(qwen2.get("model.layers.0.self_attn.o_proj.bias"));
        assertNull(qwen2.get("model.layers.0.mlp.down_proj.bias"));
        // 28 layers x (9 Llama tensors + 3 biases) + embeddings, final norm, lm_head
        assertEquals(28 * 12 + 3, qwen2.size());

        var qwen3 = LlamaTensorLayout.expectedShapes(LlamaConfig.fromJson(write(QWEN3_06B)));
        assertEquals(128L, qwen3.get("model.layers.0.self_attn.q_norm.weight")[0]);
        assertEquals(128L, qwen3.get("model.layers.0.self_attn.k_norm.weight")[0]);
        assertEquals(2048L, qwen3.get("model.layers.0.self_attn.q_proj.weight")[0]);
        assertNull(qwen3.get("model.layers.0.self_attn.q_proj.bias"));
        assertEquals(28 * 11 + 2, qwen3.size());                                          // tied: no lm_head
        assertEquals(32 * 9 + 3, LlamaTensorLayout.expectedShapes(LlamaConfig.fromJson(write(MISTRAL_V01))).size());
    }

    @Test
    void refusesGemmaWithTheReasons() throws IOException {
        for (String type : new String[] {"gemma", "gemma2", "gemma3_text"}) {
            String msg = rejected(QWEN3_06B.replace("\"qwen3\"", "\"" + type + "\""));
            assertTrue(msg.contains("Gemma") && msg.contains("GeGLU") && msg.contains("soft-capping")
                    && msg.contains("embedding scale") && msg.contains("(1 + w)"), msg);
        }
    }

    @Test
    void refusesQuantizedCheckpointsSayingToDequantize() throws IOException {
        String[] configs = {
                "{\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true, \"bnb_4bit_quant_type\": \"nf4\"}",
                "{\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": 128}",
                "{\"quant_method\": \"awq\", \"bits\": 4, \"version\": \"gemm\"}",
                "{\"quant_method\": \"fp8\", \"activation_scheme\": \"dynamic\"}"};
        for (String q : configs) {
            String msg = rejected(QWEN25_7B.replace("\"use_cache\": true,", "\"use_cache\": true, \"quantization_config\": " + q + ","));
            assertTrue(msg.contains("quantized") && msg.contains("Dequantize to bf16 first"), msg);
            String method = q.substring(q.indexOf(": \"") + 3, q.indexOf("\"", q.indexOf(": \"") + 3));
            assertTrue(msg.contains(method), msg);
        }
    }

    @Test
    void refusesWhatWouldChangeTheMathUnnoticed() throws IOException {
        assertTrue(rejected(QWEN25_7B.replace("\"attention_dropout\": 0.0", "\"attention_dropout\": 0.1"))
                .contains("\"attention_dropout\": 0.1"));
        String untyped = rejected(QWEN25_7B.replace("\"rope_theta\": 1000000.0,",
                "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"factor\": 4.0},"));
        assertTrue(untyped.contains("without \"rope_type\""), untyped);
        assertTrue(rejected(QWEN25_7B.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true"))
                .contains("sliding window is not implemented"));
        assertTrue(rejected(QWEN3_06B.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"longrope\","
                + " \"long_factor\": [1], \"short_factor\": [1]}")).contains("longrope"));
        assertTrue(rejected(QWEN3_06B.replace("\"attention_bias\": false", "\"attention_bias\": true"))
                .contains("attention_bias"));
        assertTrue(rejected(QWEN3_06B.replace("[\"Qwen3ForCausalLM\"]", "[\"Qwen2ForCausalLM\"]"))
                .contains("only [\"Qwen3ForCausalLM\"]"));
        assertTrue(rejected(MISTRAL_V01.replace("\"sliding_window\": 4096", "\"sliding_window\": 0")).contains("sliding_window"));
        assertTrue(rejected(QWEN3_06B.replace("\"qwen3\"", "\"phi3\"")).contains("\"llama\", \"mistral\", \"qwen2\", \"qwen3\""));
    }

    @Test
    void warnsWhenTrainingSequencesOutgrowTheModel() throws IOException {
        LlamaConfig mistral = LlamaConfig.fromJson(write(MISTRAL_V01));
        assertNull(mistral.contextWarning(32768));
        String w = mistral.contextWarning(32769);
        assertTrue(w != null && w.contains("32769") && w.contains("32768"), w);
        LlamaConfig yarn = LlamaConfig.fromJson(write(QWEN25_7B.replace("\"rope_theta\": 1000000.0,",
                "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"factor\": 4.0, \"original_max_position_embeddings\": 32768, \"type\": \"yarn\"},")));
        assertNull(yarn.contextWarning(131072));                                          // 4 x 32768
        assertTrue(yarn.contextWarning(131073).contains("yarn"));
        LlamaConfig dynamic = LlamaConfig.fromJson(write(MISTRAL_V01.replace("\"rope_theta\": 10000.0,",
                "\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0},")));
        assertNull(dynamic.contextWarning(1_000_000));                                     // adapts to any length
    }

    @Test
    void writtenConfigReadsBackTheSameForEveryFamilyAndScaling() throws IOException {
        RopeScaling[] scalings = {null, new RopeScaling.Linear(4), new RopeScaling.Dynamic(2), RopeScaling.Yarn.of(4, 32768),
                new RopeScaling.Yarn(8, 4096, 0.8, 16, 2, 1.0, 0.707, false), new RopeScaling.Llama3(8, 1, 4, 8192)};
        for (ModelFamily family : ModelFamily.values()) {
            for (RopeScaling scaling : scalings) {
                LlamaConfig c = new LlamaConfig(1000, 64, 128, 2, 4, 2, 24, 1e-6, 1e6, scaling, family == ModelFamily.QWEN3,
                        65536, 1, 2, family, family == ModelFamily.MISTRAL ? 4096 : 0);
                Path file = dir.resolve(family + "-" + (scaling == null ? "none" : scaling.ropeType()) + ".json");
                Files.writeString(file, c.toJson("bfloat16"));
                assertEquals(c, LlamaConfig.fromJson(file), file.getFileName().toString());
                String json = Files.readString(file);
                assertTrue(json.contains("\"" + family.architecture() + "\""), json);
            }
        }
    }

    private String rejected(String json) throws IOException {
        Path file = write(json);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(file));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    private Path write(String json) throws IOException {
        Path file = dir.resolve("config-" + Math.abs(json.hashCode()) + ".json");
        Files.writeString(file, json);
        return file;
    }
}
