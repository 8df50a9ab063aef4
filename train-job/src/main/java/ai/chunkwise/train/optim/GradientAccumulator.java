package ai.chunkwise.train.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Combines the gradients of several sequences or micro-batches into the gradient of the mean loss over all
 * their predicted tokens. Each added gradient is that of its own mean loss over {@code predictedTokens}
 * tokens, so it is weighted by its token count: mean = sum_i(n_i g_i) / sum_i(n_i). (A plain average of
 * the g_i would over-weight short sequences.)
 */
public final class GradientAccumulator {
    private final Map<String, INDArray> weightedSum = new LinkedHashMap<>();
    private long totalTokens;

    public void add(Map<String, INDArray> grads, long predictedTokens) {
        if (predictedTokens < 0) {
            throw new IllegalArgumentException("predicted token count must be >= 0, got " + predictedTokens);
        }
        if (predictedTokens == 0) {
            return;   // no token to predict: its mean loss, and so its gradient, is undefined and weighs nothing
        }
        if (!weightedSum.isEmpty() && !weightedSum.keySet().equals(grads.keySet())) {
            throw new IllegalArgumentException("gradient names changed between micro-batches: had "
                    + new TreeSet<>(weightedSum.keySet()) + ", now " + new TreeSet<>(grads.keySet()));
        }
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            INDArray sum = weightedSum.get(e.getKey());
            if (sum == null) {
                weightedSum.put(e.getKey(), e.getValue().mul(predictedTokens));
            } else if (!Arrays.equals(sum.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("gradient \"" + e.getKey() + "\" has shape " + Arrays.toString(e.getValue().shape())
                        + ", earlier micro-batches had " + Arrays.toString(sum.shape()));
            } else {
                sum.addi(e.getValue().castTo(sum.dataType()).mul(predictedTokens));
            }
        }
        totalTokens += predictedTokens;
    }

    /** The token-weighted mean of the added gradients, as new arrays. */
    public Map<String, INDArray> mean() {
        if (totalTokens == 0) {
            throw new IllegalStateException("no gradient with predicted tokens has been added since the last reset");
        }
        Map<String, INDArray> mean = new LinkedHashMap<>();
        weightedSum.forEach((k, s) -> mean.put(k, s.div(totalTokens)));
        return mean;
    }

    public long totalTokens() {
        return totalTokens;
    }

    public void reset() {
        weightedSum.clear();
        totalTokens = 0;
    }
}
