package ai.chunkwise.train.model;

import ai.chunkwise.train.checkpoint.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graph's loss honours every per-token weight in its gradients, not only in its value: one chunk step with
 * unequal weights (zeros, a large one, random others) against the float64 oracle {@link Float64Llama}. The
 * engines' tests mostly feed equal weights (1/N), under which a loss whose backward drops the weights
 * (M2.1's fused sparse cross-entropy, docs/dl4j-m2.1.md) would still be right up to a constant factor.
 * Repeated token ids in the chunk check the embedding gradient's scatter-add.
 */
class LossWeightsTest {
    private static final double TOLERANCE = 1e-12;
    private static final long[][] TOKENS = {{3, 17, 5, 9, 22, 1, 0, 14, 8}, {11, 2, 19, 7, 7, 4, 13, 7, 6}};
    private static final int[][] SEGMENTS = {{0, 0, 0, 0, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0}};
    private static final int[][] POSITIONS = {{0, 1, 2, 3, 0, 1, 2, 3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8}};

    @Test
    void fullFineTuningWithUnequalWeightsMatchesTheOracle() {
        LlamaConfig config = RandomLlama.config(2, 16, 4, 2, 24, 23, false, null);
        check(config, RandomLlama.weights(config, 3), null);
    }

    @Test
    void tiedEmbeddingsWithUnequalWeightsMatchTheOracle() {
        LlamaConfig config = RandomLlama.config(2, 16, 4, 2, 24, 23, true, null);
        check(config, RandomLlama.weights(config, 8), null);
    }

    @Test
    void loraWithUnequalWeightsMatchesTheOracle() {
        LlamaConfig config = RandomLlama.config(2, 16, 4, 2, 24, 23, false, null);
        PeftAdapter adapter = RandomLlama.adapter(config, new LoraConfig(3, 6, List.of("q_proj", "v_proj",
                "gate_proj")), 9);
        check(config, RandomLlama.weights(config, 4), adapter);
    }

    private static void check(LlamaConfig config, Map<String, INDArray> weights, PeftAdapter adapter) {
        int rows = TOKENS.length;
        int t = TOKENS[0].length;
        int[][] labels = new int[rows][t];
        double[][] lossWeights = new double[rows][t];
        SplittableRandom random = new SplittableRandom(17);
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < t; j++) {
                labels[b][j] = random.nextInt(config.vocabSize());
                lossWeights[b][j] = random.nextDouble(0.01, 0.3);
            }
        }
        lossWeights[0][3] = 0;        // no target across the document boundary
        lossWeights[1][8] = 0;        // masked
        lossWeights[1][2] = 2.5;      // an importance weight above 1 (SpaCO)

        Float64Llama.Result expected = new Float64Llama(config, weights, adapter)
                .run(TOKENS, POSITIONS, SEGMENTS, labels, lossWeights);
        LlamaModel model = new LlamaModel(config, weights, adapter, DataType.DOUBLE, rows);
        Map<String, INDArray> gradients = new HashMap<>();
        ChunkBackward back = model.backward(new ChunkInput(TOKENS, POSITIONS, SEGMENTS, labels, lossWeights),
                KeyValues.empty(config, rows, DataType.DOUBLE), null, gradients);

        assertEquals(expected.loss(), back.loss(), TOLERANCE * expected.loss(), "loss");
        assertEquals(expected.gradients().keySet(), gradients.keySet(), "gradient names");
        double worst = 0;
        for (Map.Entry<String, INDArray> e : expected.gradients().entrySet()) {
            INDArray actual = gradients.get(e.getKey());
            assertNotNull(actual, e.getKey());
            double norm = e.getValue().norm2Number().doubleValue();
            double err = actual.castTo(DataType.DOUBLE).sub(e.getValue()).norm2Number().doubleValue() / norm;
            assertTrue(err <= TOLERANCE, e.getKey() + ": relative error " + err);
            worst = Math.max(worst, err);
        }
        System.err.printf("unequal loss weights vs float64 oracle: worst gradient %.2e%n", worst);
    }
}
