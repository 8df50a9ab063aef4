package ai.chunkwise.train.checkpoint;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PeftAdapterTest {

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
    }

    @Test
    void tensorNamesFollowPeft() {
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", PeftAdapter.tensorName(0, "q_proj", 'A'));
        assertEquals("base_model.model.model.layers.11.mlp.down_proj.lora_B.weight", PeftAdapter.tensorName(11, "down_proj", 'B'));
    }
}
