package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SpaCO's estimator on a 3-layer model, one sequence of 24 tokens in k = 4 chunks, budget t = 2 (q = 1/2).
 * With k = 4 there are only 16 possible chunk subsets, so the expectation of the estimator can be computed
 * EXACTLY by enumeration: for Bernoulli sampling it must equal the SeCO gradient (to float64 rounding); for
 * uniform sampling (exactly t chunks) it is biased, because a path through p chunks survives with probability
 * C(k-p, t-p)/C(k, t) < q^p. Then a Monte Carlo check of the engine itself: the error of the mean of M draws
 * shrinks like 1/sqrt(M).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpacoEstimatorTest {
    private static final int CHUNK = 6;
    private static final int K = 4;

    private LlamaModel model;
    private Batch batch;
    private BatchGradients exact;

    @BeforeAll
    void setUp() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        model = new LlamaModel(config, RandomLlama.weights(config, 21), null, DataType.DOUBLE, 1);
        model.setNativeMemoryCollectionThreshold(Long.MAX_VALUE);   // ~100 backward passes of a tiny model
        batch = Batch.of(RandomLlama.tokens(1, K * CHUNK, config.vocabSize(), 22));
        exact = new SecoEngine(model, CHUNK).compute(batch);
    }

    private BatchGradients withSubset(int mask, double q) {
        boolean[] visited = new boolean[K];
        for (int j = 0; j < K; j++) {
            visited[j] = (mask >> j & 1) == 1;
        }
        return new ChunkwiseBackprop(model, CHUNK).run(batch, new ChunkSelection(visited, q));
    }

    private static void addScaled(Map<String, INDArray> acc, Map<String, INDArray> g, double weight) {
        g.forEach((n, t) -> acc.merge(n, t.mul(weight), INDArray::addi));
    }

    private static double relativeDistance(Map<String, INDArray> a, Map<String, INDArray> b) {
        double num = 0;
        double den = 0;
        for (String n : b.keySet()) {
            num += Math.pow(a.get(n).sub(b.get(n)).norm2Number().doubleValue(), 2);
            den += Math.pow(b.get(n).norm2Number().doubleValue(), 2);
        }
        return Math.sqrt(num / den);
    }

    @Test
    void bernoulliExpectationIsExactlyTheSecoGradient() {
        double q = 0.5;
        Map<String, INDArray> expectation = new LinkedHashMap<>();
        for (int mask = 0; mask < (1 << K); mask++) {
            int size = Integer.bitCount(mask);
            double probability = Math.pow(q, size) * Math.pow(1 - q, K - size);
            BatchGradients g = withSubset(mask, q);
            assertEquals(exact.loss(), g.loss(), 0.0, "pass-1 loss must not depend on the subset");
            addScaled(expectation, g.gradients(), probability);
        }
        double err = GradientComparison.assertAllClose(expectation, exact.gradients(), 1e-12,
                "E[bernoulli SpaCO] vs SeCO");
        System.err.printf("bernoulli: exact expectation over 16 subsets vs SeCO: worst relative error %.2e%n", err);
    }

    @Test
    void nonemptyBernoulliExpectationIsExactlyTheSecoGradient() {
        // issue #20, item 6: Bernoulli conditioned on a non-empty set; by hand, P(non-empty) = 1 - (1/2)^4 = 15/16
        double q = 0.5;
        double nonEmpty = 15.0 / 16;
        Map<String, INDArray> expectation = new LinkedHashMap<>();
        for (int mask = 1; mask < (1 << K); mask++) {   // the empty set is never drawn
            int size = Integer.bitCount(mask);
            double probability = Math.pow(q, size) * Math.pow(1 - q, K - size) / nonEmpty;
            boolean[] visited = new boolean[K];
            for (int j = 0; j < K; j++) {
                visited[j] = (mask >> j & 1) == 1;
            }
            double[] qs = {q, q, q, q};
            BatchGradients g = new ChunkwiseBackprop(model, CHUNK).run(batch, new ChunkSelection(visited, qs, nonEmpty));
            addScaled(expectation, g.gradients(), probability);
        }
        double err = GradientComparison.assertAllClose(expectation, exact.gradients(), 1e-12,
                "E[nonempty SpaCO] vs SeCO");
        System.err.printf("nonempty: exact expectation over 15 subsets vs SeCO: worst relative error %.2e%n", err);
    }

    @Test
    void nonemptyHasNoMoreVarianceThanBernoulli() {
        // the nonempty estimate of a subset is Z times bernoulli's (linear in the loss weights), drawn with
        // probability p(S) / Z: its second moment is Z * E[|g|^2; S non-empty] <= bernoulli's E[|g|^2], so its
        // variance (second moment - |SeCO gradient|^2) is never larger; computed exactly over all subsets
        double q = 0.5;
        double z = 15.0 / 16;
        double secondMoment = 0;
        for (int mask = 1; mask < (1 << K); mask++) {
            int size = Integer.bitCount(mask);
            double p = Math.pow(q, size) * Math.pow(1 - q, K - size);
            double norm = 0;
            for (INDArray t : withSubset(mask, q).gradients().values()) {
                norm += Math.pow(t.norm2Number().doubleValue(), 2);
            }
            secondMoment += p * norm;
        }
        double mean = 0;
        for (INDArray t : exact.gradients().values()) {
            mean += Math.pow(t.norm2Number().doubleValue(), 2);
        }
        double bernoulli = secondMoment - mean;
        double nonempty = z * secondMoment - mean;
        System.err.printf("variance over all subsets (k = 4, q = 1/2): bernoulli %.4e, nonempty %.4e (ratio %.3f)%n",
                bernoulli, nonempty, nonempty / bernoulli);
        assertTrue(nonempty <= bernoulli && nonempty >= 0, bernoulli + " vs " + nonempty);
    }

    @Test
    void nonemptySamplingDrawsTheConditionedDistributionWithItsFactor() {
        // the sampler's own draws: never empty, each non-empty subset with probability (1/2)^4 / (15/16) = 1/15
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        int draws = 60_000;
        int[] counts = new int[1 << K];
        for (int i = 0; i < draws; i++) {
            ChunkSelection s = SpacoSampling.NONEMPTY.draw(new double[K], 2.0, random);
            assertEquals(15.0 / 16, s.lossFactor(), 1e-15);
            assertEquals(0.5, s.inclusionProbabilities()[0], 0.0);
            int mask = 0;
            for (int j = 0; j < K; j++) {
                mask |= s.visited()[j] ? 1 << j : 0;
            }
            counts[mask]++;
        }
        assertEquals(0, counts[0], "never the empty set");
        double expected = draws / 15.0;
        double sigma = Math.sqrt(draws * (1 / 15.0) * (14 / 15.0));
        for (int mask = 1; mask < (1 << K); mask++) {
            assertTrue(Math.abs(counts[mask] - expected) < 5 * sigma, "subset " + mask + ": " + counts[mask]
                    + " draws, expected " + expected);
        }
    }

    @Test
    void uniformSamplingIsBiasedWhenGradientsCrossChunks() {
        Map<String, INDArray> expectation = new LinkedHashMap<>();
        int subsets = 0;
        for (int mask = 0; mask < (1 << K); mask++) {
            if (Integer.bitCount(mask) == 2) {
                addScaled(expectation, withSubset(mask, 0.5).gradients(), 1.0);
                subsets++;
            }
        }
        assertEquals(6, subsets);
        expectation.values().forEach(t -> t.divi(6));
        double bias = relativeDistance(expectation, exact.gradients());
        System.err.printf("uniform t=2 of k=4: relative bias of the exact expectation %.3f%n", bias);
        assertTrue(bias > 1e-2, "uniform sampling should show its bias here, got " + bias);
    }

    @Test
    void monteCarloErrorShrinksLikeOneOverSqrtM() {
        double[] errors = new double[2];
        int[] draws = {16, 64};
        for (int i = 0; i < 2; i++) {
            SpacoEngine engine = new SpacoEngine(model, CHUNK, 2, SpacoSampling.BERNOULLI);
            java.util.SplittableRandom seeds = new java.util.SplittableRandom(1000 + i);
            Map<String, INDArray> mean = new LinkedHashMap<>();
            for (int m = 0; m < draws[i]; m++) {
                BatchGradients g = engine.compute(batch, seeds.nextLong());
                assertEquals(exact.loss(), g.loss(), 0.0, "SpaCO reports the exact pass-1 loss");
                addScaled(mean, g.gradients(), 1.0 / draws[i]);
            }
            errors[i] = relativeDistance(mean, exact.gradients());
        }
        double ratio = errors[0] / errors[1];
        System.err.printf("bernoulli Monte Carlo: relative error M=16 %.4f, M=64 %.4f, ratio %.2f (ideal 2)%n",
                errors[0], errors[1], ratio);
        assertTrue(ratio > 1.3 && ratio < 3.5, "error ratio M=16 / M=64 = " + ratio + ", expected about 2");
        assertTrue(errors[1] < 0.5, "mean of 64 draws is " + errors[1] + " away from the exact gradient");
    }
}
