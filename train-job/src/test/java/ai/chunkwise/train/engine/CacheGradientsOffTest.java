package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ChunkwiseBackprop} with the K/V gradients off (the bench's ablation {@code seco-no-kv-grad}) is the gradient of sum_j J_j(theta; past K/V held at theta_0): checked
 * against central finite differences of that function along a random direction, in float64, computed with
 * forward passes only. The same differences of the true loss give SeCO's gradient, which differs.
 */
class CacheGradientsOffTest {
    private static final int CHUNK = 5;
    private static final int K = 3;
    private static final double EPS = 1e-5;

    @Test
    void gradientIsTheDerivativeWithThePastHeldFixed() {
        LlamaConfig config = RandomLlama.config(2, 16, 2, 2, 24, 29, false, null);
        Map<String, INDArray> w0 = RandomLlama.weights(config, 41);
        long[][] tokens = RandomLlama.tokens(1, K * CHUNK, config.vocabSize(), 42);
        Batch batch = Batch.of(tokens);

        LlamaModel model = new LlamaModel(config, copy(w0), null, DataType.DOUBLE, 1);
        Map<String, INDArray> truncated = truncated(model, batch);
        Map<String, INDArray> seco = new SecoEngine(model, CHUNK).compute(batch).gradients();

        SplittableRandom random = new SplittableRandom(43);
        Map<String, INDArray> direction = new LinkedHashMap<>();
        w0.forEach((n, t) -> direction.put(n, RandomLlama.gaussian(random, 0, 1, t.shape())));
        Map<String, INDArray> plus = shifted(w0, direction, EPS);
        Map<String, INDArray> minus = shifted(w0, direction, -EPS);
        KeyValues[] pastAtTheta0 = chunkKeyValues(new LlamaModel(config, copy(w0), null, DataType.DOUBLE, 1), tokens);

        double fdTruncated = (lossWithFixedPast(config, plus, tokens, pastAtTheta0)
                - lossWithFixedPast(config, minus, tokens, pastAtTheta0)) / (2 * EPS);
        double fdFull = (lossWithFixedPast(config, plus, tokens, null)
                - lossWithFixedPast(config, minus, tokens, null)) / (2 * EPS);
        double dirTruncated = dot(truncated, direction);
        double dirSeco = dot(seco, direction);
        System.err.printf("truncated: analytic %.10f fd %.10f | seco: analytic %.10f fd %.10f%n",
                dirTruncated, fdTruncated, dirSeco, fdFull);
        assertEquals(fdTruncated, dirTruncated, 1e-6 * Math.abs(fdTruncated));
        assertEquals(fdFull, dirSeco, 1e-6 * Math.abs(fdFull));
        assertTrue(Math.abs(dirTruncated - dirSeco) > 1e-3 * Math.abs(dirSeco),
                "dropping the K/V gradients should change the gradient");
    }

    @Test
    void equalsSecoWhenOnlyTheFirstChunkHasLoss() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 44), null, DataType.DOUBLE, 1);
        long[][] tokens = RandomLlama.tokens(1, K * CHUNK, config.vocabSize(), 45);
        boolean[][] mask = new boolean[1][K * CHUNK];
        for (int j = 1; j < CHUNK; j++) {
            mask[0][j] = true;   // targets predicted from positions 0..CHUNK-2: all inside chunk 0
        }
        Batch batch = new Batch(tokens, mask, null);
        GradientComparison.assertAllClose(truncated(model, batch),
                new SecoEngine(model, CHUNK).compute(batch).gradients(), 1e-13, "no cross-chunk path: same gradient");
    }

    /** SeCO's passes with every chunk back-propagating only into itself. */
    private static Map<String, INDArray> truncated(LlamaModel model, Batch batch) {
        return new ChunkwiseBackprop(model, CHUNK).run(batch, losses -> ChunkSelection.all(losses.length), false)
                .gradients();
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> w) {
        Map<String, INDArray> c = new LinkedHashMap<>();
        w.forEach((n, t) -> c.put(n, t.dup()));
        return c;
    }

    private static Map<String, INDArray> shifted(Map<String, INDArray> w, Map<String, INDArray> d, double eps) {
        Map<String, INDArray> c = new LinkedHashMap<>();
        w.forEach((n, t) -> c.put(n, t.add(d.get(n).mul(eps))));
        return c;
    }

    private static double dot(Map<String, INDArray> a, Map<String, INDArray> b) {
        double s = 0;
        for (String n : a.keySet()) {
            s += a.get(n).mul(b.get(n)).sumNumber().doubleValue();
        }
        return s;
    }

    /** Each chunk's own K/V computed by the model, chunk by chunk with the growing cache. */
    private static KeyValues[] chunkKeyValues(LlamaModel model, long[][] tokens) {
        KeyValues[] out = new KeyValues[K];
        for (int j = 0; j < K; j++) {
            out[j] = model.forward(chunk(tokens, j), pastOf(model.config(), out, j), false).present();
        }
        return out;
    }

    private static KeyValues pastOf(LlamaConfig config, KeyValues[] chunks, int j) {
        if (j == 0) {
            return KeyValues.empty(config, 1, DataType.DOUBLE);
        }
        INDArray[] k = new INDArray[config.numHiddenLayers()];
        INDArray[] v = new INDArray[config.numHiddenLayers()];
        for (int l = 0; l < k.length; l++) {
            INDArray[] ks = new INDArray[j];
            INDArray[] vs = new INDArray[j];
            for (int i = 0; i < j; i++) {
                ks[i] = chunks[i].keys()[l];
                vs[i] = chunks[i].values()[l];
            }
            k[l] = Nd4j.concat(2, ks);
            v[l] = Nd4j.concat(2, vs);
        }
        return new KeyValues(k, v);
    }

    /**
     * Mean loss of the sequence under {@code weights}; each chunk attends to {@code fixedPast}'s K/V when given
     * (the past held at theta_0), else to the K/V this model computes itself (the true loss).
     */
    private static double lossWithFixedPast(LlamaConfig config, Map<String, INDArray> weights, long[][] tokens,
                                            KeyValues[] fixedPast) {
        LlamaModel model = new LlamaModel(config, copy(weights), null, DataType.DOUBLE, 1);
        KeyValues[] own = new KeyValues[K];
        double loss = 0;
        for (int j = 0; j < K; j++) {
            KeyValues past = pastOf(config, fixedPast != null ? fixedPast : own, j);
            var out = model.forward(chunk(tokens, j), past, false);
            own[j] = out.present();
            loss += out.loss();
        }
        return loss;
    }

    /** Chunk j of one row: absolute rotary positions, next-token labels, weight 1/N on every target. */
    private static ChunkInput chunk(long[][] tokens, int j) {
        int s = tokens[0].length;
        long n = s - 1;
        long[][] tok = new long[1][CHUNK];
        int[][] pos = new int[1][CHUNK];
        int[][] lab = new int[1][CHUNK];
        double[][] w = new double[1][CHUNK];
        for (int i = 0; i < CHUNK; i++) {
            int p = j * CHUNK + i;
            tok[0][i] = tokens[0][p];
            pos[0][i] = p;
            lab[0][i] = p + 1 < s ? (int) tokens[0][p + 1] : 0;
            w[0][i] = p + 1 < s ? 1.0 / n : 0.0;
        }
        return new ChunkInput(tok, pos, null, lab, w);
    }
}
