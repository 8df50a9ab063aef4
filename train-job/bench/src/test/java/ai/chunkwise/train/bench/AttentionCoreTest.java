package ai.chunkwise.train.bench;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attention-core variants compute the same out, dQ, dK and dV as the SameDiff graph (the trainer's formulation,
 * whose backward SameDiff derives: an independent reference), in float64 with a past and a causal mask; and
 * SameDiff agrees with a plain double loop.
 */
class AttentionCoreTest {
    private static final int HEADS = 2;
    private static final int CHUNK = 6;
    private static final int PAST = 9;
    private static final int HEAD_DIM = 4;
    private static AttentionInputs in;
    private static AttentionGradients reference;

    @BeforeAll
    static void sameDiff() {
        ai.chunkwise.train.backend.CpuBuild.select();
        in = AttentionInputs.random(DataType.DOUBLE, HEADS, CHUNK, PAST, HEAD_DIM, 5);
        reference = new SameDiffAttention(DataType.DOUBLE, HEADS, HEAD_DIM).run(in);
    }

    @Test
    void eagerMatchesSameDiff() {
        assertSame(reference, new EagerAttention().run(in));
    }

    @Test
    void batchedEagerMatchesSameDiff() {
        assertSame(reference, new BatchedEagerAttention().run(in));
    }

    @Test
    void blockwiseMatchesSameDiffWithAPartialLastBlock() {
        assertSame(reference, new BlockwiseAttention(4).run(in));   // 15 keys: blocks of 4, 4, 4, 3
    }

    @Test
    void blockwiseNeverHoldsAWholeScoreMatrix() {
        BlockwiseAttention blockwise = new BlockwiseAttention(4);
        blockwise.run(in);
        EagerAttention eager = new EagerAttention();
        eager.run(in);
        long outputs = 8L * HEADS * HEAD_DIM * (2 * CHUNK + 2 * (PAST + CHUNK));
        assertTrue(blockwise.ledger().peakLiveBytes() - outputs < 8L * HEADS * CHUNK * (PAST + CHUNK),
                blockwise.ledger().peakLiveBytes() + " bytes");
        assertTrue(eager.ledger().peakLiveBytes() - outputs >= 8L * HEADS * CHUNK * (PAST + CHUNK));
    }

    @Test
    void sameDiffMatchesADoubleLoop() {
        double[][][] q = heads(in.q());
        double[][][] k = heads(in.k());
        double[][][] v = heads(in.v());
        double[][][] g = heads(in.dOut());
        double[][][] out = heads(reference.out());
        double[][][] dQ = heads(reference.dQ());
        double[][][] dK = heads(reference.dK());
        double[][][] dV = heads(reference.dV());
        int keys = PAST + CHUNK;
        double s = 1 / Math.sqrt(HEAD_DIM);
        for (int h = 0; h < HEADS; h++) {
            double[][] dKh = new double[keys][HEAD_DIM];
            double[][] dVh = new double[keys][HEAD_DIM];
            for (int i = 0; i < CHUNK; i++) {
                double[] p = new double[keys];
                double sum = 0;
                for (int j = 0; j <= PAST + i; j++) {   // causal: keys up to the query's own position
                    p[j] = Math.exp(s * dot(q[h][i], k[h][j]));
                    sum += p[j];
                }
                double[] o = new double[HEAD_DIM];
                double[] dp = new double[keys];
                double d = 0;
                for (int j = 0; j < keys; j++) {
                    p[j] /= sum;
                    dp[j] = dot(g[h][i], v[h][j]);
                    d += p[j] * dp[j];
                    for (int x = 0; x < HEAD_DIM; x++) {
                        o[x] += p[j] * v[h][j][x];
                    }
                }
                double[] dq = new double[HEAD_DIM];
                for (int j = 0; j < keys; j++) {
                    double ds = p[j] * (dp[j] - d);
                    for (int x = 0; x < HEAD_DIM; x++) {
                        dq[x] += s * ds * k[h][j][x];
                        dKh[j][x] += s * ds * q[h][i][x];
                        dVh[j][x] += p[j] * g[h][i][x];
                    }
                }
                for (int x = 0; x < HEAD_DIM; x++) {
                    assertEquals(o[x], out[h][i][x], 1e-12);
                    assertEquals(dq[x], dQ[h][i][x], 1e-12);
                }
            }
            for (int j = 0; j < keys; j++) {
                for (int x = 0; x < HEAD_DIM; x++) {
                    assertEquals(dKh[j][x], dK[h][j][x], 1e-12);
                    assertEquals(dVh[j][x], dV[h][j][x], 1e-12);
                }
            }
        }
    }

    private static void assertSame(AttentionGradients expected, AttentionGradients actual) {
        assertClose("out", expected.out(), actual.out());
        assertClose("dQ", expected.dQ(), actual.dQ());
        assertClose("dK", expected.dK(), actual.dK());
        assertClose("dV", expected.dV(), actual.dV());
    }

    private static void assertClose(String what, INDArray expected, INDArray actual) {
        assertTrue(java.util.Arrays.equals(expected.shape(), actual.shape()), what + " shape");
        double worst = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(worst < 1e-12, what + " differs by " + worst);
    }

    private static double[][][] heads(INDArray a) {
        double[][][] out = new double[(int) a.size(1)][(int) a.size(2)][(int) a.size(3)];
        for (int h = 0; h < out.length; h++) {
            for (int i = 0; i < out[h].length; i++) {
                for (int x = 0; x < out[h][i].length; x++) {
                    out[h][i][x] = a.getDouble(0, h, i, x);
                }
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
