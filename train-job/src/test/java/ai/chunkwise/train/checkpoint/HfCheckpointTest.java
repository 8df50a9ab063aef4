package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class HfCheckpointTest {

    @Test
    void loadsTheFixtureWithEveryTensorOfTheConfig() {
        HfCheckpoint ckpt = HfCheckpoint.load(HfFixtures.gqa(), DataType.DOUBLE);
        LlamaConfig c = ckpt.config();
        assertEquals(new LlamaConfig(384, 64, 176, 3, 4, 2, 16, 1e-6, 10000.0, null, false, 4096, 1, 2), c);
        Map<String, INDArray> w = ckpt.weights();
        assertEquals(2 + 3 * 9 + 1, w.size());
        assertEquals("model.embed_tokens.weight", w.keySet().iterator().next(), "module order");
        assertArrayEquals(new long[] {384, 64}, w.get("lm_head.weight").shape());
        assertArrayEquals(new long[] {64, 64}, w.get("model.layers.2.self_attn.q_proj.weight").shape());
        assertArrayEquals(new long[] {32, 64}, w.get("model.layers.2.self_attn.k_proj.weight").shape());
        assertArrayEquals(new long[] {64, 176}, w.get("model.layers.0.mlp.down_proj.weight").shape());
        assertEquals(DataType.DOUBLE, w.get("model.norm.weight").dataType());
        // value taken with numpy from the raw file
        assertEquals(-0.30564379692077637, w.get("model.layers.1.self_attn.k_proj.weight").getDouble(0, 0), 0.0);
        assertFalse(w.containsKey("input_ids"));
    }
}
