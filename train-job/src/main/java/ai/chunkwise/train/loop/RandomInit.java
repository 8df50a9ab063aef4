package ai.chunkwise.train.loop;

import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LlamaConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fresh weights for training from scratch, as transformers' LlamaPreTrainedModel._init_weights makes them:
 * every Linear and the embedding ~ N(0, std^2), every RMSNorm weight 1, biases 0. Drawn from java.util.SplittableRandom
 * (tensor by tensor in checkpoint order), so a seed gives the same model on every machine.
 */
public final class RandomInit {
    private RandomInit() {
    }

    public static Map<String, INDArray> weights(LlamaConfig config, long seed, double std, DataType dataType) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        LlamaTensorLayout.expectedShapes(config).forEach((name, shape) -> {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            double[] values = new double[Math.toIntExact(n)];
            if (name.endsWith("norm.weight")) {
                java.util.Arrays.fill(values, 1.0);
            } else if (name.endsWith(".bias")) {
                java.util.Arrays.fill(values, 0.0);   // Qwen2's q/k/v biases start at zero, as transformers initialises them
            } else {
                for (int i = 0; i < values.length; i++) {
                    values[i] = std * gaussian(random);
                }
            }
            weights.put(name, Nd4j.createFromArray(values).reshape('c', shape).castTo(dataType));
        });
        return weights;
    }

    /** Standard normal by Box-Muller: SplittableRandom has no nextGaussian in Java 17. */
    private static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();   // (0, 1]: log(u1) is finite
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
