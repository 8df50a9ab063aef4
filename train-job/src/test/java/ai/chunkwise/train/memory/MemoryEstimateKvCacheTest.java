package ai.chunkwise.train.memory;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The K/V cache term with train.method.kv-cache-dtype = bfloat16 (2 bytes a value) at Llama-3.1-8B's width. */
class MemoryEstimateKvCacheTest {
    private static final LlamaConfig L3 = new LlamaConfig(128256, 4096, 14336, 32, 32, 8, 128, 1e-5, 500000.0, null,
            false, 8192, 1, 2);
    private static final LoraConfig LORA = new LoraConfig(16, 32, List.of("q_proj", "k_proj", "v_proj", "o_proj",
            "gate_proj", "up_proj", "down_proj"));

    @Test
    void aBf16CacheHalvesTheCacheAndItsGradientPlusOneLayerWidened() {
        long tokens = 16384;
        MemoryEstimate fp32 = MemoryEstimate.of(L3, LORA, 4, 2, 1, tokens, 256, false);
        MemoryEstimate same = MemoryEstimate.of(L3, LORA, 4, 2, 4, 1, tokens, 256, false);
        MemoryEstimate bf16 = MemoryEstimate.of(L3, LORA, 4, 2, 2, 1, tokens, 256, false);
        assertEquals(fp32, same, "the compute dtype's bytes are the default");
        // 32 layers x (k, v) x 16384 tokens x 1024 wide x 4 bytes, doubled for the gradients: 8 GiB
        assertEquals(2L * 32 * 2 * tokens * 1024 * 4, fp32.kvCacheBytes());
        // the same in 2 bytes, plus one layer's past K/V and their gradients widened to float32
        assertEquals(2L * 32 * 2 * tokens * 1024 * 2 + 4L * tokens * 1024 * 4, bf16.kvCacheBytes());
        assertEquals(fp32.weightBytes(), bf16.weightBytes());
        assertEquals(fp32.optimizerBytes(), bf16.optimizerBytes());
        assertEquals(fp32.activationBytes(), bf16.activationBytes());
        // full back-propagation keeps no cache of its own: the cache's bytes do not apply
        assertEquals(MemoryEstimate.of(L3, LORA, 4, 2, 1, tokens, 256, true).kvCacheBytes(),
                MemoryEstimate.of(L3, LORA, 4, 2, 2, 1, tokens, 256, true).kvCacheBytes());
    }
}
