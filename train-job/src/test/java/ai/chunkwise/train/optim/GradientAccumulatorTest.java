package ai.chunkwise.train.optim;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GradientAccumulatorTest {

    @Test
    void weightsEachMicroBatchByItsPredictedTokens() {
        // Per-token loss (w - y)^2 at w = 0 has gradient -2y. Micro-batch 1 predicts y = 1, 2, 3
        // (mean-loss gradient -4), micro-batch 2 predicts y = 7 (gradient -14). The mean loss over all
        // four tokens has gradient (-2 - 4 - 6 - 14) / 4 = -6.5; a plain average of -4 and -14 would give -9.
        GradientAccumulator acc = new GradientAccumulator();
        acc.add(Map.of("w", Nd4j.createFromArray(-4.0)), 3);
        acc.add(Map.of("w", Nd4j.createFromArray(-14.0)), 1);
        assertEquals(4, acc.totalTokens());
        assertEquals(-6.5, acc.mean().get("w").getDouble(0), 1e-15);
    }

    @Test
    void averagesTensorsElementWise() {
        GradientAccumulator acc = new GradientAccumulator();
        INDArray g1 = Nd4j.createFromArray(1.0, 2.0);
        acc.add(Map.of("a", g1, "b", Nd4j.createFromArray(new double[][] {{1, 1}})), 3);
        acc.add(Map.of("a", Nd4j.createFromArray(4.0, -1.0), "b", Nd4j.createFromArray(new double[][] {{5, -3}})), 1);
        acc.add(Map.of("a", Nd4j.createFromArray(100.0, 100.0), "b", Nd4j.createFromArray(new double[][] {{9, 9}})), 0);
        Map<String, INDArray> mean = acc.mean();
        assertEquals(Nd4j.createFromArray(1.75, 1.25), mean.get("a"));          // ([3, 6] + [4, -1]) / 4
        assertEquals(Nd4j.createFromArray(new double[][] {{2.0, 0.0}}), mean.get("b"));   // ([3, 3] + [5, -3]) / 4
        assertEquals(Nd4j.createFromArray(1.0, 2.0), g1, "inputs are not modified");

        acc.reset();
        assertEquals(0, acc.totalTokens());
        assertThrows(IllegalStateException.class, acc::mean);
        acc.add(Map.of("a", Nd4j.createFromArray(2.0, 2.0)), 5);
        assertEquals(Nd4j.createFromArray(2.0, 2.0), acc.mean().get("a"));
    }

    @Test
    void rejectsMismatchedMicroBatches() {
        GradientAccumulator acc = new GradientAccumulator();
        acc.add(Map.of("a", Nd4j.createFromArray(1.0, 2.0)), 1);
        assertThrows(IllegalArgumentException.class, () -> acc.add(Map.of("b", Nd4j.createFromArray(1.0, 2.0)), 1));
        assertThrows(IllegalArgumentException.class, () -> acc.add(Map.of("a", Nd4j.createFromArray(1.0)), 1));
        assertThrows(IllegalArgumentException.class, () -> acc.add(Map.of("a", Nd4j.createFromArray(1.0, 2.0)), -1));
    }
}
