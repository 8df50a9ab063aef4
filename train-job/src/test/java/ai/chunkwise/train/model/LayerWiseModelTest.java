package ai.chunkwise.train.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layer-wise chunk step at the model level. Attention in blocks of 3 keys gives the loss, K/V, parameter
 * gradients and past-K/V gradients of one block covering everything (which SecoMatchesFullTest and the HF
 * references check against plain back-propagation), in float64, for a chunk with a past and packed documents.
 * And LoRA over bf16 frozen weights, widened per layer, is bit-identical to the same weights upcast at load.
 */
class LayerWiseModelTest {
    private static final LoraConfig LORA = new LoraConfig(4, 8, List.of("q_proj", "v_proj", "down_proj"));

    private static ChunkInput chunk(LlamaConfig config, int past, int t, int[] segmentsRow0) {
        long[][] tokens = RandomLlama.tokens(2, t, config.vocabSize(), 5);
        int[][] positions = new int[2][t];
        int[][] labels = new int[2][t];
        double[][] weights = new double[2][t];
        int[][] segments = new int[2][];
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < t; i++) {
                positions[r][i] = past + i;
                labels[r][i] = (int) ((tokens[r][i] * 7 + 3) % config.vocabSize());
                weights[r][i] = 1.0 / (2 * t);
            }
            segments[r] = r == 0 ? segmentsRow0 : new int[past + t];
        }
        return new ChunkInput(tokens, positions, segments, labels, weights);
    }

    private static KeyValues randomPast(LlamaConfig config, int past, long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        int layers = config.numHiddenLayers();
        INDArray[] k = new INDArray[layers];
        INDArray[] v = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = RandomLlama.gaussian(random, 0, 1, 2, config.numKeyValueHeads(), past, config.headDim());
            v[l] = RandomLlama.gaussian(random, 0, 1, 2, config.numKeyValueHeads(), past, config.headDim());
        }
        return new KeyValues(k, v);
    }

    @Test
    void smallAttentionBlocksChangeNothing() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        int past = 10;
        int t = 7;
        int[] segments = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};   // documents start at 4 and 13
        ChunkInput in = chunk(config, past, t, segments);
        KeyValues pastKv = randomPast(config, past, 8);
        KeyValues presentGrad = randomPast(config, t, 9);
        for (boolean lora : new boolean[]{false, true}) {
            Map<String, INDArray> weights = RandomLlama.weights(config, 1);
            LoraWeights adapter = lora ? RandomLlama.adapter(config, LORA, 2) : null;
            LlamaModel blocked = new LlamaModel(config, weights, adapter, DataType.DOUBLE, 2, 3);
            LlamaModel whole = new LlamaModel(config, RandomLlama.weights(config, 1),
                    lora ? RandomLlama.adapter(config, LORA, 2) : null, DataType.DOUBLE, 2, 1024);
            Map<String, INDArray> gBlocked = new LinkedHashMap<>();
            Map<String, INDArray> gWhole = new LinkedHashMap<>();
            ChunkBackward a = blocked.backward(in, pastKv, presentGrad, gBlocked);
            ChunkBackward b = whole.backward(in, pastKv, presentGrad, gWhole);
            assertEquals(b.loss(), a.loss(), 1e-13);
            assertEquals(gWhole.keySet(), gBlocked.keySet());
            double worst = 0;
            for (String name : gWhole.keySet()) {
                worst = Math.max(worst, relative(gWhole.get(name), gBlocked.get(name)));
            }
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                worst = Math.max(worst, relative(b.pastGrads().keys()[l], a.pastGrads().keys()[l]));
                worst = Math.max(worst, relative(b.pastGrads().values()[l], a.pastGrads().values()[l]));
            }
            ChunkForward fa = blocked.forward(in, pastKv, true);
            ChunkForward fb = whole.forward(in, pastKv, true);
            worst = Math.max(worst, relative(fb.logits(), fa.logits()));
            worst = Math.max(worst, relative(fb.present().keys()[0], fa.present().keys()[0]));
            assertTrue(worst < 1e-12, (lora ? "LoRA" : "full") + ": worst relative difference " + worst);
        }
    }

    @Test
    void bf16FrozenWeightsGiveTheGradientsOfTheirUpcast() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        Map<String, INDArray> bf16 = new LinkedHashMap<>();
        Map<String, INDArray> upcast = new LinkedHashMap<>();
        RandomLlama.weights(config, 3).forEach((name, w) -> {
            INDArray narrow = w.castTo(DataType.BFLOAT16);
            bf16.put(name, narrow);
            upcast.put(name, narrow.castTo(DataType.FLOAT));
        });
        int past = 6;
        int t = 5;
        ChunkInput in = chunk(config, past, t, null);
        KeyValues pastKv = castTo(randomPast(config, past, 4), DataType.FLOAT);
        LlamaModel narrowModel = new LlamaModel(config, bf16, RandomLlama.adapter(config, LORA, 5),
                DataType.FLOAT, 2);
        LlamaModel wideModel = new LlamaModel(config, upcast, RandomLlama.adapter(config, LORA, 5),
                DataType.FLOAT, 2);
        Map<String, INDArray> gNarrow = new LinkedHashMap<>();
        Map<String, INDArray> gWide = new LinkedHashMap<>();
        ChunkBackward a = narrowModel.backward(in, pastKv, null, gNarrow);
        ChunkBackward b = wideModel.backward(in, pastKv, null, gWide);
        assertEquals(b.loss(), a.loss(), 0.0);
        for (String name : gWide.keySet()) {
            assertArrayEquals(gWide.get(name).data().asFloat(), gNarrow.get(name).data().asFloat(), 0f, name);
        }
        assertArrayEquals(b.pastGrads().keys()[0].data().asFloat(), a.pastGrads().keys()[0].data().asFloat(), 0f);
    }

    private static KeyValues castTo(KeyValues kv, DataType type) {
        INDArray[] k = new INDArray[kv.layers()];
        INDArray[] v = new INDArray[kv.layers()];
        for (int l = 0; l < kv.layers(); l++) {
            k[l] = kv.keys()[l].castTo(type);
            v[l] = kv.values()[l].castTo(type);
        }
        return new KeyValues(k, v);
    }

    private static double relative(INDArray expected, INDArray actual) {
        double scale = Math.max(1e-300, expected.norm2Number().doubleValue());
        return expected.sub(actual).norm2Number().doubleValue() / scale;
    }
}
