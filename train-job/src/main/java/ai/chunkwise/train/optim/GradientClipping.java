package ai.chunkwise.train.optim;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** Global L2-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ does it. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /**
     * Scales all gradients in place by {@code maxNorm / (norm + 1e-6)} when that factor is below 1 (i.e. when
     * the global norm exceeds {@code maxNorm}), exactly like torch, and returns the global norm before clipping.
     * A non-finite norm (overflow, NaN) is returned without touching the gradients, so the caller can skip the
     * step instead of applying NaNs everywhere.
     */
    public static double clipGlobalNorm(Map<String, INDArray> grads, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("maxNorm must be positive, got " + maxNorm);
        }
        double norm = globalNorm(grads);
        if (!Double.isFinite(norm)) {
            return norm;
        }
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1) {
            for (INDArray g : grads.values()) {
                g.muli(coefficient);
            }
        }
        return norm;
    }

    /** The L2 norm of all gradients together, in float64. */
    public static double globalNorm(Map<String, INDArray> grads) {
        double sumOfSquares = 0;
        for (INDArray g : grads.values()) {
            double n = g.norm2Number().doubleValue();
            sumOfSquares += n * n;
        }
        return Math.sqrt(sumOfSquares);
    }
}
