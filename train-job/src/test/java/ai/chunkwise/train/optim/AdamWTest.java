package ai.chunkwise.train.optim;

import ai.chunkwise.train.checkpoint.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** AdamW against steps worked out by hand from the torch.optim.AdamW update rule. */
class AdamWTest {
    @TempDir
    Path dir;

    private static final double LR = 0.1;
    private static final double[][] GRADS = {{0.5, -1.0}, {-0.25, 2.0}, {1.0, 0.0}};

    /**
     * lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, p0 = [1, -2]. Each line below is the update
     * p = p(1 - lr wd) - lr mhat / (sqrt(vhat) + eps) with m, v and the bias corrections worked out by hand:
     * step 1: m = [0.05, -0.1], v = [0.00025, 0.001], 1-b1 = 0.1, 1-b2 = 0.001
     * step 2: m = [0.02, 0.11], v = [0.00031225, 0.004999], 1-b1^2 = 0.19, 1-b2^2 = 0.001999
     * step 3: m = [0.118, 0.099], v = [0.00131193775, 0.004994001], 1-b1^3 = 0.271, 1-b2^3 = 0.002997001
     */
    private static final double[][] EXPECTED = new double[3][2];

    static {
        double a = 0.999 - 0.1 * (0.05 / 0.1) / (Math.sqrt(0.00025 / 0.001) + 1e-8);
        double b = -1.998 - 0.1 * (-0.1 / 0.1) / (Math.sqrt(0.001 / 0.001) + 1e-8);
        EXPECTED[0] = new double[] {a, b};
        a = a * 0.999 - 0.1 * (0.02 / 0.19) / (Math.sqrt(0.00031225 / 0.001999) + 1e-8);
        b = b * 0.999 - 0.1 * (0.11 / 0.19) / (Math.sqrt(0.004999 / 0.001999) + 1e-8);
        EXPECTED[1] = new double[] {a, b};
        a = a * 0.999 - 0.1 * (0.118 / 0.271) / (Math.sqrt(0.00131193775 / 0.002997001) + 1e-8);
        b = b * 0.999 - 0.1 * (0.099 / 0.271) / (Math.sqrt(0.004994001 / 0.002997001) + 1e-8);
        EXPECTED[2] = new double[] {a, b};
    }

    @Test
    void threeStepsMatchTheHandComputedUpdates() {
        assertEquals(0.899, EXPECTED[0][0], 1e-7, "sanity: the first Adam step moves each weight by about lr");
        INDArray p = Nd4j.createFromArray(1.0, -2.0);
        Map<String, INDArray> params = Map.of("w", p);
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (int t = 0; t < 3; t++) {
            adam.step(params, Map.of("w", Nd4j.createFromArray(GRADS[t])), LR);
            assertSame(p, params.get("w"), "updated in place");
            assertEquals(t + 1, adam.stepCount());
            assertEquals(EXPECTED[t][0], p.getDouble(0), 1e-14, "step " + (t + 1));
            assertEquals(EXPECTED[t][1], p.getDouble(1), 1e-14, "step " + (t + 1));
        }
    }

    @Test
    void float32ParametersFollowTheSameSteps() {
        INDArray p = Nd4j.createFromArray(1.0f, -2.0f);
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (int t = 0; t < 3; t++) {
            adam.step(Map.of("w", p), Map.of("w", Nd4j.createFromArray(GRADS[t]).castTo(DataType.FLOAT)), LR);
        }
        assertEquals(DataType.FLOAT, p.dataType());
        assertEquals(EXPECTED[2][0], p.getDouble(0), 1e-6);
        assertEquals(EXPECTED[2][1], p.getDouble(1), 1e-6);
    }

    @Test
    void zeroGradientsOnlyDecayTheWeights() {
        INDArray p = Nd4j.createFromArray(3.0, -1.5);
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.1);
        for (int t = 0; t < 2; t++) {
            adam.step(Map.of("w", p), Map.of("w", Nd4j.zeros(DataType.DOUBLE, 2)), 0.5);
        }
        assertEquals(3.0 * 0.95 * 0.95, p.getDouble(0), 1e-15);
        assertEquals(-1.5 * 0.95 * 0.95, p.getDouble(1), 1e-15);
    }

    @Test
    void resumesExactlyFromASavedState() {
        INDArray reference = Nd4j.createFromArray(1.0, -2.0);
        AdamW uninterrupted = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (double[] g : GRADS) {
            uninterrupted.step(Map.of("w", reference), Map.of("w", Nd4j.createFromArray(g)), LR);
        }

        INDArray p = Nd4j.createFromArray(1.0, -2.0);
        AdamW first = new AdamW(0.9, 0.999, 1e-8, 0.01);
        first.step(Map.of("w", p), Map.of("w", Nd4j.createFromArray(GRADS[0])), LR);
        Path file = dir.resolve("optimizer.safetensors");
        SafeTensors.write(file, first.state(), null, DataType.DOUBLE);

        AdamW resumed = new AdamW(0.9, 0.999, 1e-8, 0.01);
        resumed.loadState(SafeTensors.read(file, DataType.DOUBLE));
        assertEquals(1, resumed.stepCount());
        for (int t = 1; t < 3; t++) {
            resumed.step(Map.of("w", p), Map.of("w", Nd4j.createFromArray(GRADS[t])), LR);
        }
        assertEquals(reference, p);
        assertEquals(EXPECTED[2][0], p.getDouble(0), 1e-14);
    }

    @Test
    void rejectsMismatchedInputs() {
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.0);
        Map<String, INDArray> params = new LinkedHashMap<>();
        params.put("a", Nd4j.ones(DataType.DOUBLE, 2));
        assertThrows(IllegalArgumentException.class, () -> adam.step(params, Map.of("b", Nd4j.ones(DataType.DOUBLE, 2)), 0.1));
        assertThrows(IllegalArgumentException.class, () -> adam.step(params, Map.of("a", Nd4j.ones(DataType.DOUBLE, 3)), 0.1));
        adam.step(params, Map.of("a", Nd4j.ones(DataType.DOUBLE, 2)), 0.1);
        params.put("c", Nd4j.ones(DataType.DOUBLE, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.step(params,
                Map.of("a", Nd4j.ones(DataType.DOUBLE, 2), "c", Nd4j.ones(DataType.DOUBLE, 1)), 0.1));
        assertEquals(true, e.getMessage().contains("must not change"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(Map.of("exp_avg.a", Nd4j.ones(2))));
    }
}
