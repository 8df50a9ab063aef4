package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.model.Float64Llama;
import ai.chunkwise.train.model.LlamaModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java model against what Hugging Face transformers computed (shared/fixtures/hf-llama): logits, loss and
 * every gradient, for plain back-propagation and SeCO.
 *
 * <p>Why 1e-5 and not 1e-9: the fixtures were produced with the model upcast to float64, but transformers'
 * LlamaRMSNorm casts its input to float32 ({@code hidden_states.to(torch.float32)}) and computes the
 * normalisation there, and LlamaRotaryEmbedding forces float32 for the angles. Seven float32 roundings per
 * token and layer stack put a floor of about 1e-7..1e-6 under any comparison with a float64 model. This was
 * verified outside the tests with an independent numpy float64 Llama: it reproduces our logits to 1e-16 and
 * differs from the fixture by the same 8.7e-7; replacing only its RMSNorm by HF's float32 one (8-lane float32
 * summation) makes the position-0 logits agree with the fixture to 3e-16. The float64 exactness of the model
 * and the engines is therefore asserted against an independent float64 oracle instead (OracleAgreementTest,
 * 1e-12); here we assert agreement at the float32 level the fixture actually has, and that the oracle sits at
 * the same distance from HF (so both implement HF's Llama, not just each other). The 1e-9 check against
 * transformers itself runs on true-float64 references of the same checkpoints: HfFloat64ReferenceTest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HfReferenceTest {
    /** The fixture README's own bound for float32 computations. Measured: logits 3.6e-7, gradients <= 1.5e-6. */
    private static final double FLOAT32_LEVEL = 1e-5;

    private HfReference fullFt;
    private HfReference lora;

    @BeforeAll
    void load() {
        fullFt = HfReference.load(HfFixtures.gqa(), false);
        lora = HfReference.load(HfFixtures.gqaLora(), true);
    }

    private void check(HfReference ref, String what, int secoChunk) {
        LlamaModel model = new LlamaModel(ref.config(), ref.weights(), ref.adapter(), DataType.DOUBLE, ref.rows());
        Batch batch = Batch.of(ref.inputIds());
        for (GradientEngine engine : new GradientEngine[]{new FullBackprop(model), new SecoEngine(model, secoChunk)}) {
            BatchGradients g = engine.compute(batch);
            String label = what + " / " + engine.getClass().getSimpleName();
            assertEquals((long) ref.rows() * (ref.length() - 1), g.predictedTokens());
            double lossErr = Math.abs(g.loss() - ref.loss()) / ref.loss();
            double worst = GradientComparison.assertAllClose(g.gradients(), ref.gradients(), FLOAT32_LEVEL, label);
            System.err.printf("%s vs HF: loss rel err %.2e, worst gradient rel err %.2e%n", label, lossErr, worst);
            assertTrue(lossErr <= FLOAT32_LEVEL, label + ": loss relative error " + lossErr);
        }
        Float64Llama.Result oracle = OracleAgreementTest.oracle(ref);
        double logitsErr = GradientComparison.relativeError(Nd4j.create(oracle.logits()), ref.logits());
        double oracleWorst = GradientComparison.assertAllClose(oracle.gradients(), ref.gradients(), FLOAT32_LEVEL,
                what + " / float64 oracle");
        System.err.printf("%s: float64 oracle vs HF: logits %.2e, worst gradient %.2e%n", what, logitsErr, oracleWorst);
        assertTrue(logitsErr <= FLOAT32_LEVEL);
    }

    @Test
    void fullFineTuningFixtureMatchesTransformersAtItsFloat32Level() {
        check(fullFt, "tiny-llama-gqa", 48);
    }

    @Test
    void loraFixtureMatchesTransformersAtItsFloat32Level() {
        check(lora, "tiny-llama-gqa-lora", 64);
    }

    @Test
    void logitsMatchTransformersAtItsFloat32Level() {
        for (HfReference ref : new HfReference[]{fullFt, lora}) {
            LlamaModel model = new LlamaModel(ref.config(), ref.weights(), ref.adapter(), DataType.DOUBLE, ref.rows());
            double err = GradientComparison.relativeError(OracleAgreementTest.modelLogits(model, ref.inputIds()),
                    ref.logits());
            System.err.printf("logits vs HF: %.2e%n", err);
            assertTrue(err <= FLOAT32_LEVEL, "logits relative error " + err);
        }
    }
}
