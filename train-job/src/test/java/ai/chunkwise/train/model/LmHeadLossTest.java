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
 * shorter), zero-weight positions included: the trainable head's two sweeps, and the frozen head's one sweep
 * (online rescaling of the accumulated dx), also with a bf16 head widened per block and with logits large enough
 * that exp would overflow without the rescaling. And a bf16 head gives exactly what its fp32 widening gives.
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
    void frozenHeadOneSweepMatchesTheWrittenOutLoss() {
        SplittableRandom random = new SplittableRandom(5);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN);
        INDArray w = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN);
        checkFrozenHead(x, w, 1e-12);
    }

    @Test
    void frozenHeadOneSweepWithABf16HeadWidenedPerBlock() {
        SplittableRandom random = new SplittableRandom(6);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN);
        INDArray bf16 = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN).castTo(DataType.BFLOAT16);
        checkFrozenHead(x, bf16, 1e-12);
    }

    /** Logits in the hundreds: the running max rises from block to block and exp(z) alone would overflow. */
    @Test
    void frozenHeadOneSweepRescalesLargeLogits() {
        SplittableRandom random = new SplittableRandom(7);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN).muli(150);
        INDArray w = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN);
        checkFrozenHead(x, w, 1e-12);
    }

    /** The one sweep (frozen head) and the two sweeps (as with a trainable head) agree on loss, logits and dx. */
    @Test
    void oneSweepAgreesWithTwoSweeps() {
        SplittableRandom random = new SplittableRandom(8);
        INDArray x = RandomLlama.gaussian(random, 0, 1, N, HIDDEN);
        INDArray w = RandomLlama.gaussian(random, 0, 1, VOCAB, HIDDEN);
        int[] labels = {22, 0, 7, 21, 6, 14};
        double[] weights = {0.5, 0, 0.1, 1, 0.25, 0};
        LmHeadLoss.Result one = new LmHeadLoss(new WideningBuffers(DataType.DOUBLE), 7)
                .run(x, w, labels, weights, true, null, true);
        LmHeadLoss.Result two = new LmHeadLoss(new WideningBuffers(DataType.DOUBLE), 7)
                .run(x, w, labels, weights, true, Nd4j.zeros(DataType.DOUBLE, VOCAB, HIDDEN), true);
        assertEquals(two.loss(), one.loss(), 1e-13);
        assertEquals(two.logits(), one.logits());
        assertTrue(maxDiff(two.inputGrad().toDoubleMatrix(), one.inputGrad().toDoubleMatrix()) < 1e-13);
    }

    /**
     * Frozen head (headGrad null): the one sweep, against the written-out loss and dx, labels in the first and the
     * last block, weight 0 at two positions (their dx rows must be exactly zero); the head is left untouched.
     */
    private static void checkFrozenHead(INDArray x, INDArray head, double tolerance) {
        int[] labels = {0, 22, 7, 3, 21, 14};
        double[] weights = {0.2, 0.1, 0, 0.3, 0.25, 0};
        INDArray headBefore = head.dup();
        LmHeadLoss.Result r = new LmHeadLoss(new WideningBuffers(DataType.DOUBLE), 7)
                .run(x, head, labels, weights, true, null, true);
        assertEquals(headBefore, head);

        double[][] xs = x.toDoubleMatrix();
        double[][] ws = head.castTo(DataType.DOUBLE).toDoubleMatrix();
        double loss = 0;
        double[][] dx = new double[N][HIDDEN];
        double worstLogit = 0;
        for (int i = 0; i < N; i++) {
            double[] z = new double[VOCAB];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < VOCAB; v++) {
                for (int d = 0; d < HIDDEN; d++) {
                    z[v] += xs[i][d] * ws[v][d];
                }
                max = Math.max(max, z[v]);
                double logitDiff = Math.abs(z[v] - r.logits().getDouble(i, v));
                worstLogit = Math.max(worstLogit, logitDiff / Math.max(1, Math.abs(z[v])));
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
                }
            }
        }
        assertTrue(Math.abs(loss - r.loss()) <= tolerance * Math.max(1, Math.abs(loss)),
                "loss " + r.loss() + " against " + loss);
        assertTrue(worstLogit < tolerance, "worst relative logit difference " + worstLogit);
        double worst = maxDiff(dx, r.inputGrad().toDoubleMatrix());
        assertTrue(worst < tolerance, "worst absolute dx difference " + worst);
        for (int i = 0; i < N; i++) {
            if (weights[i] == 0) {
                for (int d = 0; d < HIDDEN; d++) {
                    assertEquals(0.0, r.inputGrad().getDouble(i, d), 0.0);
                }
            }
        }
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
