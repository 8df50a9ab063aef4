package ai.chunkwise.train.model;

import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test oracle's hand-written backward pass against central finite differences of its own forward pass,
 * on a tiny model with GQA, two documents in a row, a masked target and both training modes.
 */
class Float64LlamaTest {
    private static final long[][] TOKENS = {{3, 17, 5, 9, 22, 1, 0, 14, 8}, {11, 2, 19, 7, 7, 4, 13, 21, 6}};
    private static final int[][] SEGMENTS = {{0, 0, 0, 0, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0}};
    private static final int[][] POSITIONS = {{0, 1, 2, 3, 0, 1, 2, 3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8}};

    private static double lossOf(Float64Llama m, int[][] labels, double[][] weights) {
        return m.run(TOKENS, POSITIONS, SEGMENTS, labels, weights).loss();
    }

    private static void checkAgainstFiniteDifferences(LlamaConfig config, Map<String, INDArray> weights,
                                                      PeftAdapter adapter, Map<String, INDArray> perturbable) {
        int[][] labels = new int[2][9];
        double[][] lossWeights = new double[2][9];
        for (int b = 0; b < 2; b++) {
            for (int j = 0; j < 8; j++) {
                labels[b][j] = (int) TOKENS[b][j + 1];
                lossWeights[b][j] = (b == 0 && j == 3) ? 0 : 1.0 / 15;   // row 0: no target across the boundary
            }
        }
        Map<String, INDArray> grads = new Float64Llama(config, weights, adapter).run(TOKENS, POSITIONS, SEGMENTS,
                labels, lossWeights).gradients();
        assertTrue(grads.keySet().containsAll(perturbable.keySet()), "oracle gradients cover " + grads.keySet());
        SplittableRandom random = new SplittableRandom(5);
        double eps = 1e-5;
        double worst = 0;
        for (Map.Entry<String, INDArray> e : perturbable.entrySet()) {
            INDArray p = e.getValue();
            for (int trial = 0; trial < 3; trial++) {
                long idx = random.nextLong(p.length());
                double original = p.getDouble(idx);
                p.putScalar(idx, original + eps);
                double up = lossOf(new Float64Llama(config, weights, adapter), labels, lossWeights);
                p.putScalar(idx, original - eps);
                double down = lossOf(new Float64Llama(config, weights, adapter), labels, lossWeights);
                p.putScalar(idx, original);
                double numeric = (up - down) / (2 * eps);
                double analytic = grads.get(e.getKey()).getDouble(idx);
                double err = Math.abs(numeric - analytic) / Math.max(1e-4, Math.abs(numeric));
                worst = Math.max(worst, err);
                assertTrue(err < 1e-6, e.getKey() + "[" + idx + "]: analytic " + analytic + " vs numeric " + numeric);
            }
        }
        System.err.printf("oracle vs finite differences: worst relative error %.2e%n", worst);
    }

    @Test
    void fullFineTuningGradientsMatchFiniteDifferences() {
        LlamaConfig config = RandomLlama.config(2, 16, 4, 2, 24, 23, true, null);
        Map<String, INDArray> weights = RandomLlama.weights(config, 3);
        checkAgainstFiniteDifferences(config, weights, null, weights);
    }

    @Test
    void loraGradientsMatchFiniteDifferences() {
        LlamaConfig config = RandomLlama.config(2, 16, 4, 2, 24, 23, false, null);
        Map<String, INDArray> weights = RandomLlama.weights(config, 4);
        PeftAdapter adapter = RandomLlama.adapter(config, new LoraConfig(3, 6, List.of("q_proj", "k_proj", "v_proj",
                "o_proj", "gate_proj", "up_proj", "down_proj")), 9);
        checkAgainstFiniteDifferences(config, weights, adapter, adapter.tensors());
    }
}
