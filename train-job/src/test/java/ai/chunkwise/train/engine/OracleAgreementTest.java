package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.Float64Llama;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * float64 exactness: logits, loss and every gradient of the SameDiff model, through plain back-propagation and
 * SeCO (chunk 64 and 48 on 200 tokens, i.e. a short last chunk), against the independent float64 oracle
 * {@link Float64Llama} (whole-sequence loops, hand-derived backward), within 1e-12 relative. Runs on the HF
 * fixtures' real checkpoints and inputs (GQA, untied, batch 2; and LoRA, batch 1).
 */
class OracleAgreementTest {
    private static final double TOLERANCE = 1e-12;

    /** The oracle on the fixture's batch with the fixture's loss convention (mean over B*(S-1) targets). */
    static Float64Llama.Result oracle(HfReference ref) {
        int rows = ref.rows();
        int s = ref.length();
        int[][] positions = new int[rows][s];
        int[][] labels = new int[rows][s];
        double[][] weights = new double[rows][s];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < s; j++) {
                positions[b][j] = j;
                if (j + 1 < s) {
                    labels[b][j] = (int) ref.inputIds()[b][j + 1];
                    weights[b][j] = 1.0 / (rows * (s - 1));
                }
            }
        }
        return new Float64Llama(ref.config(), ref.weights(), ref.adapter()).run(ref.inputIds(), positions, null,
                labels, weights);
    }

    /** [B, S, vocab] logits of the model run as one chunk. */
    static INDArray modelLogits(LlamaModel model, long[][] tokens) {
        int rows = tokens.length;
        int s = tokens[0].length;
        int[][] positions = new int[rows][s];
        for (int[] p : positions) {
            for (int j = 0; j < s; j++) {
                p[j] = j;
            }
        }
        ChunkInput in = new ChunkInput(tokens, positions, null, new int[rows][s], new double[rows][s]);
        return model.forward(in, KeyValues.empty(model.config(), rows, model.dataType()), true).logits();
    }

    private static void check(HfReference ref) {
        Float64Llama.Result expected = oracle(ref);
        LlamaModel model = new LlamaModel(ref.config(), ref.weights(), ref.adapter(), DataType.DOUBLE, ref.rows());
        double logitsErr = GradientComparison.relativeError(modelLogits(model, ref.inputIds()),
                Nd4j.create(expected.logits()));
        assertTrue(logitsErr <= TOLERANCE, "logits relative error " + logitsErr);
        Batch batch = Batch.of(ref.inputIds());
        GradientEngine[] engines = {new FullBackprop(model), new SecoEngine(model, 64), new SecoEngine(model, 48)};
        String[] names = {"full", "seco chunk 64", "seco chunk 48"};
        for (int e = 0; e < engines.length; e++) {
            BatchGradients g = engines[e].compute(batch);
            assertEquals(expected.loss(), g.loss(), TOLERANCE * expected.loss(), names[e] + ": loss");
            double worst = GradientComparison.assertAllClose(g.gradients(), expected.gradients(), TOLERANCE, names[e]);
            System.err.printf("%s vs float64 oracle: logits %.2e, loss %.2e, worst gradient %.2e%n", names[e],
                    logitsErr, Math.abs(g.loss() - expected.loss()) / expected.loss(), worst);
        }
    }

    @Test
    void fullFineTuningOnTheGqaFixtureIsExact() {
        check(HfReference.load(HfFixtures.gqa(), false));
    }

    @Test
    void loraOnTheLoraFixtureIsExact() {
        check(HfReference.load(HfFixtures.gqaLora(), true));
    }
}
