package ai.chunkwise.train.model;

import ai.chunkwise.train.model.LlamaProjection;
import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Tiny random Llamas for tests: weights drawn from a seeded Java RNG, independent of ND4J's. */
public final class RandomLlama {
    private RandomLlama() {
    }

    public static LlamaConfig config(int layers, int hidden, int heads, int kvHeads, int intermediate, int vocab,
                                     boolean tied, RopeScaling scaling) {
        return new LlamaConfig(vocab, hidden, intermediate, layers, heads, kvHeads, hidden / heads, 1e-6,
                10000.0, scaling, tied, 4096, 1, 2);
    }

    /** 3 layers, GQA (4 heads, 2 KV heads), tied embeddings: the shape the SeCO-vs-full checks ask for. */
    public static LlamaConfig tinyTiedGqa() {
        return config(3, 32, 4, 2, 48, 61, true, null);
    }

    /** HF-named weights: projections ~ N(0, 0.15^2), norm weights ~ 1 + N(0, 0.1^2). */
    public static Map<String, INDArray> weights(LlamaConfig c, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        int qOut = c.numAttentionHeads() * c.headDim();
        int kvOut = c.numKeyValueHeads() * c.headDim();
        w.put(LlamaTensorLayout.EMBED_TOKENS, gaussian(random, 0, 0.5, c.vocabSize(), c.hiddenSize()));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            w.put(LlamaTensorLayout.inputNorm(l), gaussian(random, 1, 0.1, c.hiddenSize()));
            w.put(LlamaProjection.Q_PROJ.weightName(l), gaussian(random, 0, 0.15, qOut, c.hiddenSize()));
            w.put(LlamaProjection.K_PROJ.weightName(l), gaussian(random, 0, 0.15, kvOut, c.hiddenSize()));
            w.put(LlamaProjection.V_PROJ.weightName(l), gaussian(random, 0, 0.15, kvOut, c.hiddenSize()));
            w.put(LlamaProjection.O_PROJ.weightName(l), gaussian(random, 0, 0.15, c.hiddenSize(), qOut));
            w.put(LlamaTensorLayout.postAttentionNorm(l), gaussian(random, 1, 0.1, c.hiddenSize()));
            w.put(LlamaProjection.GATE_PROJ.weightName(l), gaussian(random, 0, 0.15, c.intermediateSize(), c.hiddenSize()));
            w.put(LlamaProjection.UP_PROJ.weightName(l), gaussian(random, 0, 0.15, c.intermediateSize(), c.hiddenSize()));
            w.put(LlamaProjection.DOWN_PROJ.weightName(l), gaussian(random, 0, 0.15, c.hiddenSize(), c.intermediateSize()));
        }
        w.put(LlamaTensorLayout.FINAL_NORM, gaussian(random, 1, 0.1, c.hiddenSize()));
        if (!c.tieWordEmbeddings()) {
            w.put(LlamaTensorLayout.LM_HEAD, gaussian(random, 0, 0.15, c.vocabSize(), c.hiddenSize()));
        }
        // the family's extra tensors, drawn last so a Llama's weights stay what they were
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (LlamaProjection p : LlamaTensorLayout.biasedProjections(c)) {
                w.put(p.biasName(l), gaussian(random, 0, 0.15, p.outFeatures(c)));
            }
            if (c.family().qkNorm()) {
                w.put(LlamaTensorLayout.queryNorm(l), gaussian(random, 1, 0.1, c.headDim()));
                w.put(LlamaTensorLayout.keyNorm(l), gaussian(random, 1, 0.1, c.headDim()));
            }
        }
        return w;
    }

    /**
     * A LoRA adapter as PEFT initialises it (A uniform, B zero), then B filled with N(0, 0.1^2) so that the
     * adapter actually changes the model and every A/B gradient is non-trivial. Tensors are float64.
     */
    public static PeftAdapter adapter(LlamaConfig config, LoraConfig lora, long seed) {
        PeftAdapter adapter = PeftAdapter.init(config, lora, seed, DataType.DOUBLE);
        SplittableRandom random = new SplittableRandom(seed + 1);
        adapter.tensors().forEach((name, t) -> {
            if (name.contains("lora_B")) {
                t.assign(gaussian(random, 0, 0.1, t.shape()));
            }
        });
        return adapter;
    }

    public static INDArray gaussian(SplittableRandom random, double mean, double std, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] data = new double[(int) n];
        for (int i = 0; i < data.length; i++) {
            // Box-Muller: SplittableRandom has no nextGaussian on Java 17
            double u = 1.0 - random.nextDouble();
            double v = random.nextDouble();
            data[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        }
        return Nd4j.create(data, shape, DataType.DOUBLE);
    }

    public static long[][] tokens(int rows, int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[][] t = new long[rows][length];
        for (long[] row : t) {
            for (int i = 0; i < length; i++) {
                row[i] = random.nextInt(vocab);
            }
        }
        return t;
    }
}
