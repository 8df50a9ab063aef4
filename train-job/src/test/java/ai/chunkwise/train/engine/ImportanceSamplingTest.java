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
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The importance sampler (chunk j visited with its own probability q_j, scaled by 1/q_j) is exactly unbiased:
 * as in {@link SpacoEstimatorTest}, k = 4 chunks give 16 subsets, so the expectation is computed exactly by
 * enumeration with probability prod_j q_j^v_j (1 - q_j)^(1 - v_j), in float64, and must equal SeCO's gradient.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImportanceSamplingTest {
    private static final int CHUNK = 6;
    private static final int K = 4;

    private LlamaModel model;

    @BeforeAll
    void setUp() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        model = new LlamaModel(config, RandomLlama.weights(config, 31), null, DataType.DOUBLE, 1);
        model.setNativeMemoryCollectionThreshold(Long.MAX_VALUE);
    }

    @Test
    void probabilitiesFollowLossSharesUnderTheBudget() {
        // w = 1/8 + 1/2 * share: (0.5, 0.25, 0.125, 0.125); t = 2 scales by 2
        assertArrayEquals(new double[]{1.0, 0.5, 0.25, 0.25},
                ImportanceProbabilities.of(new double[]{3, 1, 0, 0}, 2), 1e-15);
        // w = (0.625, 0.125, 0.125, 0.125): the first reaches 1, the other budget unit is spread equally
        assertArrayEquals(new double[]{1.0, 1.0 / 3, 1.0 / 3, 1.0 / 3},
                ImportanceProbabilities.of(new double[]{2, 0, 0, 0}, 2), 1e-15);
        // equal losses: the Bernoulli probabilities t/k
        assertArrayEquals(new double[]{0.25, 0.25, 0.25, 0.25},
                ImportanceProbabilities.of(new double[]{0.7, 0.7, 0.7, 0.7}, 1), 1e-15);
        // a budget of k or more visits everything
        assertArrayEquals(new double[]{1, 1, 1}, ImportanceProbabilities.of(new double[]{5, 1, 0}, 3), 1e-15);
    }

    @Test
    void drawsVisitChunksAtTheirProbabilities() {
        double[] losses = {3, 1, 0, 0};
        int[] visits = new int[K];
        int draws = 20000;
        SplittableRandom random = new SplittableRandom(5);
        for (int d = 0; d < draws; d++) {
            ChunkSelection s = SpacoSampling.IMPORTANCE.draw(losses, 2, random);
            for (int j = 0; j < K; j++) {
                visits[j] += s.visited()[j] ? 1 : 0;
            }
        }
        double[] expected = {1.0, 0.5, 0.25, 0.25};
        for (int j = 0; j < K; j++) {
            // 5 standard deviations of a binomial frequency
            double sd = Math.sqrt(expected[j] * (1 - expected[j]) / draws);
            assertEquals(expected[j], visits[j] / (double) draws, 5 * sd + 1e-12, "chunk " + j);
        }
    }

    /** Exact expectation over all 16 subsets, for every-token loss and for a loss on the last chunk only. */
    @Test
    void expectationIsExactlyTheSecoGradient() {
        long[][] tokens = RandomLlama.tokens(1, K * CHUNK, model.config().vocabSize(), 32);
        boolean[][] lastChunkOnly = new boolean[1][K * CHUNK];
        for (int j = (K - 1) * CHUNK + 2; j < K * CHUNK; j++) {
            lastChunkOnly[0][j] = true;
        }
        for (Batch batch : new Batch[]{Batch.of(tokens), new Batch(tokens, lastChunkOnly, null)}) {
            BatchGradients exact = new SecoEngine(model, CHUNK).compute(batch);
            ChunkwiseBackprop backprop = new ChunkwiseBackprop(model, CHUNK);
            double[][] q = new double[1][];
            backprop.run(batch, losses -> {
                q[0] = ImportanceProbabilities.of(losses, 2);
                return ChunkSelection.all(losses.length);
            });
            double sum = 0;
            for (double p : q[0]) {
                assertTrue(p > 0 && p <= 1, "probability " + p);
                sum += p;
            }
            assertEquals(2.0, sum, 1e-12, "expected budget");
            Map<String, INDArray> expectation = new LinkedHashMap<>();
            double totalProbability = 0;
            for (int mask = 0; mask < (1 << K); mask++) {
                boolean[] visited = new boolean[K];
                double probability = 1;
                for (int j = 0; j < K; j++) {
                    visited[j] = (mask >> j & 1) == 1;
                    probability *= visited[j] ? q[0][j] : 1 - q[0][j];
                }
                if (probability == 0) {
                    continue;   // a chunk with q_j = 1 is never left out
                }
                totalProbability += probability;
                ChunkSelection selection = new ChunkSelection(visited, q[0]);
                BatchGradients g = backprop.run(batch, selection);
                double weight = probability;
                g.gradients().forEach((n, t) -> expectation.merge(n, t.mul(weight), INDArray::addi));
            }
            assertEquals(1.0, totalProbability, 1e-12);
            double err = GradientComparison.assertAllClose(expectation, exact.gradients(), 1e-12,
                    "E[importance SpaCO] vs SeCO");
            System.err.printf("importance: q = %s, exact expectation vs SeCO: worst relative error %.2e%n",
                    java.util.Arrays.toString(q[0]), err);
        }
    }
}
