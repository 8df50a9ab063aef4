package ai.chunkwise.train.bench;

import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The fixed small Llama every CPU benchmark uses (the shape of docs/anchors.md, so the PyTorch baseline in
 * train-job/bench/tools/torch_cpu_baseline.py runs the very same model): 4 layers, hidden 256, 4 heads (no GQA),
 * FFN 688, vocab 8192, untied head, float32, every parameter trainable, random weights.
 */
public final class BenchLlama {
    public static final LlamaConfig CONFIG =
            new LlamaConfig(8192, 256, 688, 4, 4, 4, 64, 1e-6, 10000.0, null, false, 1 << 20, 1, 2);

    private BenchLlama() {
    }

    public static LlamaModel create(long seed) {
        return new LlamaModel(CONFIG, randomWeights(CONFIG, seed), null, DataType.FLOAT, 1);
    }

    /** N(0, 0.02^2) matrices and unit norm weights, like HF's initializer, from a seeded Java RNG. */
    static Map<String, INDArray> randomWeights(LlamaConfig config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        LlamaTensorLayout.expectedShapes(config).forEach((name, shape) -> {
            int n = (int) (shape.length == 1 ? shape[0] : shape[0] * shape[1]);
            float[] data = new float[n];
            boolean norm = shape.length == 1;
            for (int i = 0; i < n; i++) {
                data[i] = norm ? 1f : (float) (0.02 * gaussian(random));
            }
            weights.put(name, Nd4j.create(data, shape, DataType.FLOAT));
        });
        return weights;
    }

    /** Box-Muller: SplittableRandom has no nextGaussian on Java 17. */
    private static double gaussian(SplittableRandom random) {
        double u = 1.0 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /** Uniformly random token ids, one row. */
    static long[][] randomTokens(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] row = new long[length];
        for (int i = 0; i < length; i++) {
            row[i] = random.nextInt(CONFIG.vocabSize());
        }
        return new long[][] {row};
    }
}
