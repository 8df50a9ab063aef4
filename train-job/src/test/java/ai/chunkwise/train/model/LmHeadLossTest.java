package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vocabulary-blocked LM head + cross-entropy against the loss written out in plain Java over whole logits, in
 * float64: loss, logits, d loss/d x and d loss/d W, with blocks of 7 rows of a 23-token vocabulary (the last block
 * shorter), zero-weight positions included. And a bf16 head gives exactly what its fp32 widening gives.
 */
class LmHeadLossTest {
    private static final int N = 6;
    private static final int HIDDEN = 5;
    private static final int VOCAB = 23;

    @Test
    void blockedLossAndGradientsMatchTheWrittenOutLoss() {
        SplittableRandom random = new SplittableRandom(3);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN);
        INDArray w = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN);
        int[] labels = {0, 22, 7, 13, 6, 14};
        double[] weights = {0.2, 0.1, 0, 0.3, 0.25, 0.15};
        INDArray headGrad = Nd4j.zeros(DataType.DOUBLE, VOCAB, HIDDEN);
        LmHeadLoss.Result r = new LmHeadLoss(new WideningBuffers(DataType.DOUBLE), 7)
                .run(x, w, labels, weights, true, headGrad, true);

        double[][] xs = x.toDoubleMatrix();
        double[][] ws = w.toDoubleMatrix();
        double loss = 0;
        double[][] dx = new double[N][HIDDEN];
        double[][] dw = new double[VOCAB][HIDDEN];
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double[] z = new double[VOCAB];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < VOCAB; v++) {
                for (int d = 0; d < HIDDEN; d++) {
                    z[v] += xs[i][d] * ws[v][d];
                }
                max = Math.max(max, z[v]);
                worst = Math.max(worst, Math.abs(z[v] - r.logits().getDouble(i, v)));
            }
            double sum = 0;
            for (double zv : z) {
                sum += Math.exp(zv - max);
            }
            double lse = max + Math.log(sum);
            loss += weights[i] * (lse - z[labels[i]]);
            for (int v = 0; v < VOCAB; v++) {
                double dz = weights[i] * (Math.exp(z[v] - lse) - (v == labels[i] ? 1 : 0));
                for (int d = 0; d < HIDDEN; d++) {
                    dx[i][d] += dz * ws[v][d];
                    dw[v][d] += dz * xs[i][d];
                }
            }
        }
        assertEquals(loss, r.loss(), 1e-13);
        worst = Math.max(worst, maxDiff(dx, r.inputGrad().toDoubleMatrix()));
        worst = Math.max(worst, maxDiff(dw, headGrad.toDoubleMatrix()));
        assertTrue(worst < 1e-13, "worst absolute difference " + worst);
    }

    @Test
    void bf16HeadEqualsItsFp32WideningBitForBit() {
        SplittableRandom random = new SplittableRandom(4);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN).castTo(DataType.FLOAT);
        INDArray bf16 = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN).castTo(DataType.BFLOAT16);
        INDArray fp32 = bf16.castTo(DataType.FLOAT);
        int[] labels = {1, 2, 3, 4, 5, 6};
        double[] weights = {1, 1, 1, 1, 1, 1};
        LmHeadLoss.Result narrow = new LmHeadLoss(new WideningBuffers(DataType.FLOAT), 7)
                .run(x, bf16, labels, weights, true, null, false);
        LmHeadLoss.Result wide = new LmHeadLoss(new WideningBuffers(DataType.FLOAT), 7)
                .run(x, fp32, labels, weights, true, null, false);
        assertEquals(wide.loss(), narrow.loss(), 0.0);
        assertEquals(wide.inputGrad(), narrow.inputGrad());
    }

    private static double maxDiff(double[][] expected, double[][] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                worst = Math.max(worst, Math.abs(expected[i][j] - actual[i][j]));
            }
        }
        return worst;
    }
}
