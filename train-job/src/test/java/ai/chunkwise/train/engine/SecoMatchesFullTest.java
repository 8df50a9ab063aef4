package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.RandomLlama;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SeCO against plain back-propagation in float64 on a 3-layer GQA model with TIED embeddings (the LM head and
 * the embedding lookup share one tensor, so its gradient has two sources), batch 2, 23 tokens cut into chunks of
 * 7 (last chunk 2 tokens) and 5; with and without LoRA. And SpaCO with a budget covering every chunk (q = 1)
 * against SeCO: bit for bit.
 */
class SecoMatchesFullTest {
    private static final LoraConfig LORA_ALL = new LoraConfig(4, 8, List.of("q_proj", "k_proj", "v_proj", "o_proj",
            "gate_proj", "up_proj", "down_proj"));

    private static void assertSecoEqualsFull(LlamaModel model, Batch batch) {
        BatchGradients full = new FullBackprop(model).compute(batch);
        for (int chunk : new int[]{7, 5}) {
            BatchGradients seco = new SecoEngine(model, chunk).compute(batch);
            assertEquals(full.loss(), seco.loss(), 1e-12 * full.loss());
            double worst = GradientComparison.assertAllClose(seco.gradients(), full.gradients(), 1e-12,
                    "seco chunk " + chunk + " vs full");
            System.err.printf("seco chunk %d vs full: worst relative gradient error %.2e (k=%d)%n", chunk, worst,
                    seco.chunks());
        }
    }

    @Test
    void fullFineTuningWithTiedEmbeddings() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 1), null, DataType.DOUBLE, 2);
        assertSecoEqualsFull(model, Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 7)));
    }

    @Test
    void loraOnEveryProjectionWithTiedEmbeddings() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 2),
                RandomLlama.adapter(config, LORA_ALL, 3), DataType.DOUBLE, 2);
        assertEquals(config.numHiddenLayers() * 7 * 2, model.trainableParameters().size());
        assertSecoEqualsFull(model, Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 8)));
    }

    @Test
    void spacoWithEveryChunkInTheBudgetIsSecoBitForBit() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        LlamaModel model = new LlamaModel(config, RandomLlama.weights(config, 4), null, DataType.DOUBLE, 2);
        Batch batch = Batch.of(RandomLlama.tokens(2, 23, config.vocabSize(), 9));
        BatchGradients seco = new SecoEngine(model, 7).compute(batch);
        for (SpacoSampling sampling : SpacoSampling.values()) {
            BatchGradients spaco = new SpacoEngine(model, 7, 4, sampling).compute(batch, 42);
            assertEquals(4, spaco.chunksVisited());
            assertEquals(seco.loss(), spaco.loss(), 0.0);
            for (Map.Entry<String, INDArray> e : seco.gradients().entrySet()) {
                assertArrayEquals(e.getValue().dup().data().asDouble(),
                        spaco.gradients().get(e.getKey()).dup().data().asDouble(), 0.0,
                        sampling + ": " + e.getKey());
            }
        }
    }

    @Test
    void trainableParametersAreTheArraysTheModelReads() {
        LlamaConfig config = RandomLlama.tinyTiedGqa();
        Map<String, INDArray> weights = RandomLlama.weights(config, 5);
        LlamaModel model = new LlamaModel(config, weights, null, DataType.DOUBLE, 2);
        Batch batch = Batch.of(RandomLlama.tokens(2, 11, config.vocabSize(), 10));
        // an in-place update (what the optimizer does) of the tied embedding must reach both its readers: the
        // Java row lookup and the graph's LM head. Compare with a model built from already-updated weights.
        Map<String, INDArray> updated = new java.util.LinkedHashMap<>();
        weights.forEach((n, w) -> updated.put(n, w.mul(1.1)));
        model.trainableParameters().values().forEach(p -> p.muli(1.1));
        BatchGradients inPlace = new FullBackprop(model).compute(batch);
        BatchGradients fresh = new FullBackprop(new LlamaModel(config, updated, null, DataType.DOUBLE, 2)).compute(batch);
        assertEquals(fresh.loss(), inPlace.loss(), 1e-14 * fresh.loss());
        GradientComparison.assertAllClose(inPlace.gradients(), fresh.gradients(), 1e-14, "updated in place vs fresh");
        assertEquals(weights.keySet(), model.trainableParameters().keySet());
    }
}
