package ai.chunkwise.train.checkpoint;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads the Hugging Face fixtures. Expected values were taken with numpy (np.frombuffer on the raw
 * bytes), independently of this code.
 */
class SafeTensorsFixtureTest {

    @Test
    void readsModelWeightsAsFloatAndDouble() {
        var path = HfFixtures.gqa().resolve("model.safetensors");
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            LinkedHashMap<String, INDArray> t = SafeTensors.read(path, dt);
            assertEquals(30, t.size());   // embed + 3 x 9 + norm + lm_head
            assertEquals("lm_head.weight", t.keySet().iterator().next(), "header order is kept");
            INDArray k = t.get("model.layers.1.self_attn.k_proj.weight");
            assertEquals(dt, k.dataType());
            assertArrayEquals(new long[] {32, 64}, k.shape());
            assertEquals(-0.30564379692077637, k.getDouble(0, 0), 0.0);
            assertEquals(-0.09126084297895432, k.getDouble(0, 1), 0.0);
            assertEquals(-0.42218485474586487, k.getDouble(0, 2), 0.0);
            assertEquals(0.1841815710067749, k.getDouble(31, 63), 0.0);
            INDArray e = t.get("model.embed_tokens.weight");
            assertEquals(0.023930957540869713, e.getDouble(5, 0), 0.0);
            assertEquals(0.25041040778160095, e.getDouble(5, 1), 0.0);
            if (dt == DataType.DOUBLE) {   // float32 values summed exactly in float64
                assertEquals(-0.019151030828652438, k.sumNumber().doubleValue(), 1e-13);
                assertEquals(2.274524441109861, e.sumNumber().doubleValue(), 1e-12);
            }
        }
        assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(path));
    }

    @Test
    void readsInt64AndFloat64References() {
        LinkedHashMap<String, INDArray> r = SafeTensors.read(HfFixtures.gqa().resolve("reference.safetensors"), DataType.DOUBLE);
        INDArray ids = r.get("input_ids");
        assertEquals(DataType.LONG, ids.dataType());
        assertArrayEquals(new long[] {2, 200}, ids.shape());
        long[] firstRow = ids.getRow(0).toLongVector();
        assertEquals(200, firstRow.length);
        assertArrayEquals(new long[] {75, 283, 262, 381, 241}, java.util.Arrays.copyOf(firstRow, 5));
        assertEquals(267, ids.getLong(1, 197));
        assertEquals(109, ids.getLong(1, 198));
        assertEquals(5, ids.getLong(1, 199));
        assertEquals(6.714430626038138, r.get("loss").getDouble(0), 0.0);
        assertArrayEquals(new long[] {2, 200, 384}, r.get("logits").shape());
        assertEquals(0.3175119354603371, r.get("logits").getDouble(1, 199, 383), 0.0);
    }

    @Test
    void readsAdapterTensors() {
        LinkedHashMap<String, INDArray> a = SafeTensors.read(
                HfFixtures.gqaLora().resolve("adapter/adapter_model.safetensors"), DataType.DOUBLE);
        assertEquals(12, a.size());
        INDArray b = a.get("base_model.model.model.layers.2.self_attn.v_proj.lora_B.weight");
        assertArrayEquals(new long[] {32, 4}, b.shape());
        assertEquals(-0.3537243902683258, b.getDouble(0, 0), 0.0);
        assertEquals(-0.20384418964385986, b.getDouble(0, 1), 0.0);
        assertEquals(-3.223904517944902, b.sumNumber().doubleValue(), 1e-13);
        INDArray qa = a.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        assertArrayEquals(new long[] {4, 64}, qa.shape());
        assertEquals(-0.04247766360640526, qa.getDouble(0, 0), 0.0);
        assertEquals(2.932923062820919, qa.sumNumber().doubleValue(), 1e-13);
    }
}
