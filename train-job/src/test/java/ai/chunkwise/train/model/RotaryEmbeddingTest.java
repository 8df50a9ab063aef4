package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** inv_freq with and without llama3 scaling, worked out by hand from HF's _compute_llama3_parameters. */
class RotaryEmbeddingTest {
    private static LlamaConfig config(RopeScaling scaling) {
        // head_dim 8, theta 10000: inv_freq = 10000^(-i/4) = 1, 0.1, 0.01, 0.001 (float32); wavelengths 2*pi/inv
        return new LlamaConfig(32, 16, 32, 1, 2, 2, 8, 1e-6, 10000.0, scaling, false, 16384, 1, 2);
    }

    @Test
    void defaultFrequenciesAreFloat32PowersOfTheta() {
        double[] inv = RotaryEmbedding.inverseFrequencies(config(null));
        assertArrayEquals(new double[]{1.0, (float) 0.1, (float) 0.01, (float) 0.001}, inv, 0.0);
    }

    @Test
    void llama3KeepsHighFrequenciesDividesLowOnesAndBlendsTheMiddle() {
        // original context 8192, low_freq_factor 1, high_freq_factor 4: low_freq_wavelen 8192, high 2048.
        // wavelengths 6.28, 62.8, 628 (< 2048: kept) and 6283 (between: smoothed)
        double[] inv = RotaryEmbedding.inverseFrequencies(config(new RopeScaling.Llama3(8, 1, 4, 8192)));
        assertEquals(1.0, inv[0], 0.0);
        assertEquals((float) 0.1, inv[1], 0.0);
        assertEquals((float) 0.01, inv[2], 0.0);
        double base = (float) 0.001;
        double smooth = (8192 / (2 * Math.PI / base) - 1) / (4 - 1);          // 0.10127...
        double expected = (1 - smooth) * base / 8 + smooth * base;             // = 0.213608 * base
        assertEquals(0.213608, expected / base, 1e-6);
        assertEquals(expected, inv[3], 1e-7 * expected);                      // stored as float32

        // original context 4096: low_freq_wavelen 4096 < 6283, so the lowest frequency is simply divided by 8
        double[] divided = RotaryEmbedding.inverseFrequencies(config(new RopeScaling.Llama3(8, 1, 4, 4096)));
        assertEquals(base / 8, divided[3], 1e-7 * base);
    }

    @Test
    void tablesRepeatTheHalvesAndPositionZeroIsTheIdentity() {
        RotaryEmbedding rope = new RotaryEmbedding(config(null), DataType.FLOAT);
        double[] cos = new double[16];
        double[] sin = new double[16];
        rope.fill(0, cos, sin, 0);
        rope.fill(3, cos, sin, 8);
        for (int i = 0; i < 8; i++) {
            assertEquals(1.0, cos[i], 0.0);
            assertEquals(0.0, sin[i], 0.0);
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(cos[8 + i], cos[12 + i], 0.0);
            assertEquals(sin[8 + i], sin[12 + i], 0.0);
        }
        assertEquals((float) Math.cos(3.0), cos[8], 0.0);                     // angle 3 * inv_freq[0] = 3
        assertEquals((float) Math.sin(3.0f * (float) 0.1), sin[9], 0.0);
    }
}
