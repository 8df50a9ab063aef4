package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blockwise (flash) attention core against attention written out in plain Java loops, in float64: the full
 * [queries x keys] softmax with the same visibility rule (causal, cut at document starts), and its gradients
 * from the textbook formulas. Blocks of 3 keys, so the past and the chunk each span several blocks, some fully
 * visible, some crossed by a causal or document boundary, some (before a document start) skipped.
 */
class BlockwiseAttentionTest {
    private static final int B = 2;
    private static final int KV = 2;
    private static final int REP = 2;
    private static final int T = 5;
    private static final int P = 8;
    private static final int HD = 4;

    @Test
    void forwardAndGradientsMatchPlainAttention() {
        SplittableRandom random = new SplittableRandom(11);
        INDArray q = RandomLlama.gaussian(random, 0, 1, B, KV, REP * T, HD);
        INDArray pastK = RandomLlama.gaussian(random, 0, 1, B, KV, P, HD);
        INDArray pastV = RandomLlama.gaussian(random, 0, 1, B, KV, P, HD);
        INDArray k = RandomLlama.gaussian(random, 0, 1, B, KV, T, HD);
        INDArray v = RandomLlama.gaussian(random, 0, 1, B, KV, T, HD);
        INDArray dOut = RandomLlama.gaussian(random, 0, 1, B, KV, REP * T, HD);
        // row 0: one document from key 0; row 1: a document starting at key 4 (in the past), another at 10
        int[][] first = {{0, 0, 0, 0, 0}, {4, 4, 10, 10, 10}};
        AttentionKeyRanges ranges = new AttentionKeyRanges(P, first);

        BlockwiseAttention attention = new BlockwiseAttention(3);
        BlockwiseAttention.Output out = attention.forward(q, pastK, pastV, k, v, ranges);
        BlockwiseAttention.Gradients g = attention.backward(q, pastK, pastV, k, v, out, dOut, ranges);

        double worst = 0;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < KV; h++) {
                double[][] qm = matrix(q, b, h);
                double[][] keys = concat(matrix(pastK, b, h), matrix(k, b, h));
                double[][] values = concat(matrix(pastV, b, h), matrix(v, b, h));
                double[][] dO = matrix(dOut, b, h);
                Plain ref = Plain.run(qm, keys, values, dO, first[b]);
                worst = Math.max(worst, maxDiff(ref.out, matrix(out.context(), b, h)));
                worst = Math.max(worst, maxDiff(ref.dQ, matrix(g.query(), b, h)));
                worst = Math.max(worst, maxDiff(ref.dK, concat(matrix(g.pastKey(), b, h), matrix(g.key(), b, h))));
                worst = Math.max(worst, maxDiff(ref.dV,
                        concat(matrix(g.pastValue(), b, h), matrix(g.value(), b, h))));
                double[][] lse = matrix(out.logSumExp(), b, h);
                for (int i = 0; i < ref.lse.length; i++) {
                    worst = Math.max(worst, Math.abs(ref.lse[i] - lse[i][0]));
                }
            }
        }
        assertTrue(worst < 1e-12, "worst absolute difference " + worst);
        // keys before row 1's document start get no gradient at all (their blocks are skipped or masked)
        for (int h = 0; h < KV; h++) {
            double[][] dK = matrix(g.pastKey(), 1, h);
            for (int key = 0; key < 4; key++) {
                assertEquals(0.0, java.util.Arrays.stream(dK[key]).map(Math::abs).sum(), "key " + key);
            }
        }
    }

    /**
     * The same in float32, which writes its masks through a FloatBuffer rather than a DoubleBuffer: a mask at the
     * wrong place or in the wrong byte order would show as an O(1) difference, float32 rounding as ~1e-6.
     */
    @Test
    void float32MatchesPlainAttention() {
        SplittableRandom random = new SplittableRandom(13);
        INDArray q = RandomLlama.gaussian(random, 0, 1, B, KV, REP * T, HD).castTo(DataType.FLOAT);
        INDArray pastK = RandomLlama.gaussian(random, 0, 1, B, KV, P, HD).castTo(DataType.FLOAT);
        INDArray pastV = RandomLlama.gaussian(random, 0, 1, B, KV, P, HD).castTo(DataType.FLOAT);
        INDArray k = RandomLlama.gaussian(random, 0, 1, B, KV, T, HD).castTo(DataType.FLOAT);
        INDArray v = RandomLlama.gaussian(random, 0, 1, B, KV, T, HD).castTo(DataType.FLOAT);
        INDArray dOut = RandomLlama.gaussian(random, 0, 1, B, KV, REP * T, HD).castTo(DataType.FLOAT);
        int[][] first = {{0, 0, 0, 0, 0}, {4, 4, 10, 10, 10}};
        AttentionKeyRanges ranges = new AttentionKeyRanges(P, first);
        BlockwiseAttention attention = new BlockwiseAttention(3);
        BlockwiseAttention.Output out = attention.forward(q, pastK, pastV, k, v, ranges);
        BlockwiseAttention.Gradients g = attention.backward(q, pastK, pastV, k, v, out, dOut, ranges);
        double worst = 0;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < KV; h++) {
                Plain ref = Plain.run(matrix(q, b, h), concat(matrix(pastK, b, h), matrix(k, b, h)),
                        concat(matrix(pastV, b, h), matrix(v, b, h)), matrix(dOut, b, h), first[b]);
                worst = Math.max(worst, maxDiff(ref.out, matrix(out.context(), b, h)));
                worst = Math.max(worst, maxDiff(ref.dQ, matrix(g.query(), b, h)));
                worst = Math.max(worst, maxDiff(ref.dK, concat(matrix(g.pastKey(), b, h), matrix(g.key(), b, h))));
                worst = Math.max(worst, maxDiff(ref.dV,
                        concat(matrix(g.pastValue(), b, h), matrix(g.value(), b, h))));
            }
        }
        assertTrue(worst < 1e-4, "worst absolute difference " + worst);
    }

    @Test
    void withoutPastTheChunkAttendsToItself() {
        SplittableRandom random = new SplittableRandom(12);
        INDArray q = RandomLlama.gaussian(random, 0, 1, 1, KV, REP * T, HD);
        INDArray k = RandomLlama.gaussian(random, 0, 1, 1, KV, T, HD);
        INDArray v = RandomLlama.gaussian(random, 0, 1, 1, KV, T, HD);
        INDArray dOut = RandomLlama.gaussian(random, 0, 1, 1, KV, REP * T, HD);
        int[][] first = {{0, 0, 2, 2, 2}};
        AttentionKeyRanges ranges = new AttentionKeyRanges(0, first);
        BlockwiseAttention attention = new BlockwiseAttention(2);
        BlockwiseAttention.Output out = attention.forward(q, null, null, k, v, ranges);
        BlockwiseAttention.Gradients g = attention.backward(q, null, null, k, v, out, dOut, ranges);
        assertEquals(null, g.pastKey());
        double worst = 0;
        for (int h = 0; h < KV; h++) {
            Plain ref = Plain.run(matrix(q, 0, h), matrix(k, 0, h), matrix(v, 0, h), matrix(dOut, 0, h), first[0]);
            worst = Math.max(worst, maxDiff(ref.out, matrix(out.context(), 0, h)));
            worst = Math.max(worst, maxDiff(ref.dQ, matrix(g.query(), 0, h)));
            worst = Math.max(worst, maxDiff(ref.dK, matrix(g.key(), 0, h)));
            worst = Math.max(worst, maxDiff(ref.dV, matrix(g.value(), 0, h)));
        }
        assertTrue(worst < 1e-12, "worst absolute difference " + worst);
    }

    /** Softmax attention over the visible keys and its gradients, written out with the whole score matrix. */
    private record Plain(double[][] out, double[] lse, double[][] dQ, double[][] dK, double[][] dV) {
        static Plain run(double[][] q, double[][] keys, double[][] values, double[][] dOut, int[] first) {
            int rows = q.length;
            int n = keys.length;
            int t = first.length;
            int past = n - t;
            double[][] p = new double[rows][n];
            double[][] out = new double[rows][HD];
            double[] lse = new double[rows];
            for (int i = 0; i < rows; i++) {
                int query = i % t;
                double max = Double.NEGATIVE_INFINITY;
                double[] s = new double[n];
                for (int j = 0; j < n; j++) {
                    s[j] = visible(j, query, first, past) ? dot(q[i], keys[j]) : Double.NEGATIVE_INFINITY;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    p[i][j] = Math.exp(s[j] - max);
                    sum += p[i][j];
                }
                lse[i] = max + Math.log(sum);
                for (int j = 0; j < n; j++) {
                    p[i][j] /= sum;
                    for (int d = 0; d < HD; d++) {
                        out[i][d] += p[i][j] * values[j][d];
                    }
                }
            }
            double[][] dQ = new double[rows][HD];
            double[][] dK = new double[n][HD];
            double[][] dV = new double[n][HD];
            for (int i = 0; i < rows; i++) {
                double[] dP = new double[n];
                double rowDot = 0;
                for (int j = 0; j < n; j++) {
                    dP[j] = dot(dOut[i], values[j]);
                    rowDot += p[i][j] * dP[j];
                }
                for (int j = 0; j < n; j++) {
                    double dS = p[i][j] * (dP[j] - rowDot);
                    for (int d = 0; d < HD; d++) {
                        dV[j][d] += p[i][j] * dOut[i][d];
                        dQ[i][d] += dS * keys[j][d];
                        dK[j][d] += dS * q[i][d];
                    }
                }
            }
            return new Plain(out, lse, dQ, dK, dV);
        }

        private static boolean visible(int key, int query, int[] first, int past) {
            return key >= first[query] && key <= past + query;
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double[][] matrix(INDArray a, int b, int h) {
        return a.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b), org.nd4j.linalg.indexing.NDArrayIndex.point(h))
                .castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    private static double[][] concat(double[][] a, double[][] b) {
        double[][] out = new double[a.length + b.length][];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static double maxDiff(double[][] expected, double[][] actual) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                worst = Math.max(worst, Math.abs(expected[i][j] - actual[i][j]));
            }
        }
        return worst;
    }
}
