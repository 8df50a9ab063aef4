package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train.method.kv-cache-dtype = bfloat16: SeCO/SpaCO keep the K/V cache and the K/V gradient buffer G in bf16.
 *
 * <p>Tolerances. bf16 keeps 8 significant bits: each stored K/V or G entry is off by at most 2^-9 (~2e-3)
 * relative. Those errors enter the loss through a few layers of attention, and G's through a few rounded
 * additions (one per later chunk), so the loss and the gradient should be off by a few 1e-3 relative, not more:
 * the loss is asserted within 1e-2 relative and the gradient (all tensors together, L2) within 2e-2 relative of
 * the float32 cache's. What would be a bug is far larger: a G that did not receive the past's gradients is the
 * ablation without K/V gradients, asserted here to be several times further from the exact gradient than bf16 is.
 */
class Bf16KvCacheTest {
    private static final int CHUNK = 8;
    private static final LoraConfig LORA_ALL = new LoraConfig(4, 8, List.of("q_proj", "k_proj", "v_proj", "o_proj",
            "gate_proj", "up_proj", "down_proj"));

    private static LlamaModel floatModel(LlamaConfig config, boolean lora) {
        return new LlamaModel(config, RandomLlama.weights(config, 11),
                lora ? RandomLlama.adapter(config, LORA_ALL, 12) : null, DataType.FLOAT, 2);
    }

    /** ||a - e|| / ||e|| over every tensor together, in float64. */
    private static double globalRelativeError(Map<String, INDArray> actual, Map<String, INDArray> expected) {
        assertEquals(expected.keySet(), actual.keySet());
        double diff = 0;
        double norm = 0;
        for (String name : expected.keySet()) {
            INDArray e = expected.get(name).castTo(DataType.DOUBLE);
            INDArray a = actual.get(name).castTo(DataType.DOUBLE);
            diff += Math.pow(a.sub(e).norm2Number().doubleValue(), 2);
            norm += Math.pow(e.norm2Number().doubleValue(), 2);
        }
        return Math.sqrt(diff / norm);
    }

    private static void assertCloseButNotEqual(BatchGradients exact, BatchGradients bf16, BatchGradients noKvGrad,
                                               String what) {
        double lossError = Math.abs(bf16.loss() - exact.loss()) / Math.abs(exact.loss());
        double gradError = globalRelativeError(bf16.gradients(), exact.gradients());
        double ablationError = globalRelativeError(noKvGrad.gradients(), exact.gradients());
        System.err.printf("%s: bf16 K/V cache vs float32: loss %.3e relative, gradient %.3e relative (without K/V "
                + "gradients: %.3e)%n", what, lossError, gradError, ablationError);
        assertTrue(lossError < 1e-2, what + ": loss off by " + lossError + " relative");
        assertTrue(gradError < 2e-2, what + ": gradient off by " + gradError + " relative");
        assertTrue(gradError > 0, what + ": the bf16 cache gave the float32 cache's gradient bit for bit: not in effect");
        assertTrue(gradError < ablationError / 4, what + ": bf16 gradient error " + gradError
                + " is not well below dropping the K/V gradients (" + ablationError + "): G is not accumulated");
    }

    @Test
    void secoFullFineTuningIsCloseToTheFloat32Cache() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = floatModel(config, false);
        Batch batch = Batch.of(RandomLlama.tokens(2, 5 * CHUNK - 3, config.vocabSize(), 13));   // k = 5
        BatchGradients exact = new SecoEngine(model, CHUNK).compute(batch, 0);
        BatchGradients bf16 = EngineSpec.seco(CHUNK).withKvCache(KvCacheDtype.BFLOAT16).create(model).compute(batch, 0);
        BatchGradients noKvGrad = new ChunkwiseBackprop(model, CHUNK)
                .run(batch, losses -> ChunkSelection.all(losses.length), false);
        assertCloseButNotEqual(exact, bf16, noKvGrad, "seco, full fine-tuning");
    }

    @Test
    void secoLoraIsCloseToTheFloat32Cache() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = floatModel(config, true);
        Batch batch = Batch.of(RandomLlama.tokens(2, 4 * CHUNK, config.vocabSize(), 14));
        BatchGradients exact = new SecoEngine(model, CHUNK).compute(batch, 0);
        BatchGradients bf16 = new SecoEngine(model, CHUNK, KvCacheDtype.BFLOAT16).compute(batch, 0);
        BatchGradients noKvGrad = new ChunkwiseBackprop(model, CHUNK)
                .run(batch, losses -> ChunkSelection.all(losses.length), false);
        assertCloseButNotEqual(exact, bf16, noKvGrad, "seco, LoRA");
    }

    @Test
    void spacoScalesTheWidenedGradient() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = floatModel(config, false);
        Batch batch = Batch.of(RandomLlama.tokens(2, 5 * CHUNK, config.vocabSize(), 15));
        // the same draw (same seed, same pass-1 losses up to rounding: uniform draws ignore them) for both caches
        BatchGradients exact = new SpacoEngine(model, CHUNK, 3, SpacoSampling.UNIFORM).compute(batch, 5);
        BatchGradients bf16 = EngineSpec.spaco(CHUNK, 3, SpacoSampling.UNIFORM).withKvCache(KvCacheDtype.BFLOAT16)
                .create(model).compute(batch, 5);
        assertEquals(exact.chunksVisited(), bf16.chunksVisited());
        double lossError = Math.abs(bf16.loss() - exact.loss()) / Math.abs(exact.loss());
        double gradError = globalRelativeError(bf16.gradients(), exact.gradients());
        System.err.printf("spaco uniform t=3 of 5: bf16 K/V cache vs float32: loss %.3e, gradient %.3e relative%n",
                lossError, gradError);
        assertTrue(lossError < 1e-2, "loss off by " + lossError);
        assertTrue(gradError > 0 && gradError < 2e-2, "gradient off by " + gradError);
    }

    @Test
    void theDefaultIsTheComputeDtypeAndUnchanged() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = floatModel(config, false);
        assertEquals(KvCacheDtype.COMPUTE, EngineSpec.seco(CHUNK).kvCache());
        assertEquals(KvCacheDtype.COMPUTE, new EngineSpec(Method.SPACO, CHUNK, 2, SpacoSampling.BERNOULLI).kvCache());
        assertEquals(DataType.FLOAT, new ChunkwiseBackprop(model, CHUNK).cacheType());
        assertEquals(DataType.BFLOAT16, new ChunkwiseBackprop(model, CHUNK, KvCacheDtype.BFLOAT16).cacheType());
        Batch batch = Batch.of(RandomLlama.tokens(2, 3 * CHUNK, config.vocabSize(), 16));
        BatchGradients plain = new SecoEngine(model, CHUNK).compute(batch, 0);
        BatchGradients compute = EngineSpec.seco(CHUNK).withKvCache(KvCacheDtype.COMPUTE).create(model)
                .compute(batch, 0);
        assertEquals(plain.loss(), compute.loss(), 0.0);
        GradientComparison.assertAllClose(compute.gradients(), plain.gradients(), 0.0, "compute cache vs default");
    }

    @Test
    void fullRefusesABf16Cache() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EngineSpec(Method.FULL, 0, 0, null, KvCacheDtype.BFLOAT16));
        assertTrue(e.getMessage().contains("kv-cache-dtype") && e.getMessage().contains("full"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> KvCacheDtype.parse("fp8"));
        assertTrue(bad.getMessage().contains("'fp8'") && bad.getMessage().contains("bfloat16"), bad.getMessage());
        assertEquals(KvCacheDtype.BFLOAT16, KvCacheDtype.parse("BFloat16"));
    }

    @Test
    void bufferRoundsOnStoreAndWidensOnCopy() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        Nd4j.getRandom().setSeed(18);
        KeyValueBuffer buffer = new KeyValueBuffer(config, 2, 6, DataType.BFLOAT16);
        assertEquals(DataType.BFLOAT16, buffer.dataType());
        KeyValues kv = new KeyValues(randoms(config, 4), randoms(config, 4));
        buffer.put(1, kv);
        KeyValues copy = buffer.copy(1, 5, 0.5, DataType.FLOAT);
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            assertEquals(DataType.FLOAT, copy.keys()[l].dataType());
            // the scaled copy is the bf16-rounded value times 0.5, computed in float32 (exact: a power of two)
            INDArray expected = kv.keys()[l].castTo(DataType.BFLOAT16).castTo(DataType.FLOAT).muli(0.5);
            assertEquals(0.0, copy.keys()[l].sub(expected).amaxNumber().doubleValue(), 0.0);
            double rounding = copy.values()[l].mul(2).sub(kv.values()[l]).amaxNumber().doubleValue();
            assertTrue(rounding > 0 && rounding < 1e-2, "bf16 rounding of values below 4: " + rounding);
        }
    }

    /** A bf16 sink receives exactly what a float32 sink receives, rounded once. */
    @Test
    void modelAddsThePastGradientIntoABf16SinkRoundedOnce() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = floatModel(config, false);
        int past = 2 * CHUNK;
        Nd4j.getRandom().setSeed(19);
        KeyValues cacheF = new KeyValues(randoms(config, past), randoms(config, past));
        KeyValues cacheB = narrowed(cacheF);
        KeyValues cacheRounded = new KeyValues(widened(cacheB.keys()), widened(cacheB.values()));
        long[][] tokens = RandomLlama.tokens(2, CHUNK, config.vocabSize(), 17);
        ChunkInput in = chunkInput(tokens, past);
        KeyValues sinkF = KeyValues.zeros(config, 2, past, DataType.FLOAT);
        KeyValues sinkB = KeyValues.zeros(config, 2, past, DataType.BFLOAT16);
        Map<String, INDArray> gradsF = new HashMap<>();
        Map<String, INDArray> gradsB = new HashMap<>();
        double lossF = model.backward(in, cacheRounded, null, gradsF, sinkF);
        double lossB = model.backward(in, cacheB, null, gradsB, sinkB);
        assertEquals(lossF, lossB, 0.0, "a bf16 past is read widened, exactly");
        GradientComparison.assertAllClose(gradsB, gradsF, 0.0, "weights' gradients");
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            assertEquals(DataType.BFLOAT16, sinkB.keys()[l].dataType());
            assertTrue(sinkF.keys()[l].amaxNumber().doubleValue() > 0);
            assertEquals(0.0, sinkB.keys()[l].castTo(DataType.FLOAT)
                    .sub(sinkF.keys()[l].castTo(DataType.BFLOAT16).castTo(DataType.FLOAT)).amaxNumber().doubleValue(), 0.0);
            assertEquals(0.0, sinkB.values()[l].castTo(DataType.FLOAT)
                    .sub(sinkF.values()[l].castTo(DataType.BFLOAT16).castTo(DataType.FLOAT)).amaxNumber().doubleValue(), 0.0);
        }
    }

    /** Rows continuing a past of {@code past} positions, every position's loss counted. */
    private static ChunkInput chunkInput(long[][] tokens, int past) {
        int rows = tokens.length;
        int t = tokens[0].length;
        int[][] positions = new int[rows][t];
        int[][] labels = new int[rows][t];
        double[][] weights = new double[rows][t];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < t; i++) {
                positions[b][i] = past + i;
                labels[b][i] = (int) tokens[b][(i + 1) % t];
                weights[b][i] = 1.0 / (rows * t);
            }
        }
        return new ChunkInput(tokens, positions, null, labels, weights, past + t);
    }

    private static INDArray[] randoms(LlamaConfig config, int length) {
        INDArray[] out = new INDArray[config.numHiddenLayers()];
        for (int l = 0; l < out.length; l++) {
            out[l] = Nd4j.rand(DataType.FLOAT, 2, config.numKeyValueHeads(), length, config.headDim()).muli(3).subi(1.5);
        }
        return out;
    }

    private static KeyValues narrowed(KeyValues kv) {
        INDArray[] k = new INDArray[kv.layers()];
        INDArray[] v = new INDArray[kv.layers()];
        for (int l = 0; l < k.length; l++) {
            k[l] = kv.keys()[l].castTo(DataType.BFLOAT16);
            v[l] = kv.values()[l].castTo(DataType.BFLOAT16);
        }
        return new KeyValues(k, v);
    }

    private static INDArray[] widened(INDArray[] a) {
        INDArray[] out = new INDArray[a.length];
        for (int l = 0; l < a.length; l++) {
            out[l] = a[l].castTo(DataType.FLOAT);
        }
        return out;
    }
}
