package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.ModelFamily;
import ai.chunkwise.train.model.RandomLlama;
import ai.chunkwise.train.model.RopeScaling;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * SeCO equals plain back-propagation in float64 for what the families add: Qwen2's q/k/v biases (trained, and
 * frozen under LoRA), Qwen3's q/k norms with head_dim != hidden/heads, Mistral's sliding window shorter than a
 * chunk and spanning chunk boundaries, and dynamic NTK RoPE past max_position_embeddings (every chunk must use the
 * whole batch's frequencies). Batch 2 x 23 tokens, chunks of 7 and 5. What the families compute against
 * transformers is HfFamiliesReferenceTest's job.
 */
class FamiliesSecoMatchesFullTest {
    private static LlamaConfig config(String kind) {
        return switch (kind) {
            case "qwen2", "qwen2-lora" -> new LlamaConfig(61, 32, 48, 2, 4, 2, 8, 1e-6, 1e6, null, true, 4096, 1, 2,
                    ModelFamily.QWEN2, 0);
            case "qwen3" -> new LlamaConfig(61, 32, 48, 2, 4, 2, 12, 1e-6, 1e6, null, false, 4096, 1, 2,
                    ModelFamily.QWEN3, 0);
            case "mistral-window" -> new LlamaConfig(61, 32, 48, 2, 4, 2, 8, 1e-6, 1e4, null, false, 4096, 1, 2,
                    ModelFamily.MISTRAL, 4);
            case "llama-dynamic" -> new LlamaConfig(61, 32, 48, 2, 4, 2, 8, 1e-6, 1e4, new RopeScaling.Dynamic(2),
                    false, 8, 1, 2);
            case "qwen2-yarn" -> new LlamaConfig(61, 32, 48, 2, 4, 2, 8, 1e-6, 1e6, RopeScaling.Yarn.of(4, 8), true,
                    8, 1, 2, ModelFamily.QWEN2, 0);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen2", "qwen2-lora", "qwen3", "mistral-window", "llama-dynamic", "qwen2-yarn"})
    void secoEqualsFull(String kind) {
        LlamaConfig config = config(kind);
        LoraConfig lora = kind.endsWith("lora") ? new LoraConfig(4, 8, List.of("q_proj", "k_proj", "v_proj", "o_proj")) : null;
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 11),
                lora == null ? null : RandomLlama.adapter(config, lora, 12), DataType.DOUBLE, 2);
        Batch batch = Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 13));
        BatchGradients full = new FullBackprop(model).compute(batch);
        if (lora == null && config.family() == ModelFamily.QWEN2) {
            assertNotEquals(0.0, full.gradients().get("model.layers.1.self_attn.k_proj.bias").norm2Number().doubleValue());
        }
        if (config.family() == ModelFamily.QWEN3) {
            assertNotEquals(0.0, full.gradients().get("model.layers.0.self_attn.q_norm.weight").norm2Number().doubleValue());
        }
        for (int chunk : new int[] {7, 5}) {
            BatchGradients seco = new SecoEngine(model, chunk).compute(batch);
            assertEquals(full.loss(), seco.loss(), 1e-12 * full.loss(), kind);
            double worst = GradientComparison.assertAllClose(seco.gradients(), full.gradients(), 1e-12,
                    kind + ": seco chunk " + chunk + " vs full");
            System.err.printf("%s: seco chunk %d vs full: worst relative gradient error %.2e%n", kind, chunk, worst);
        }
    }
}
