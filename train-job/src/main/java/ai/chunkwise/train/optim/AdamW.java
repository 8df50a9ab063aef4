package ai.chunkwise.train.optim;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Adam with decoupled weight decay, with the semantics of torch.optim.AdamW (amsgrad off):
 * <pre>
 *   p -= lr * wd * p
 *   m  = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * Parameters are updated in place, so arrays bound into a model graph stay bound. Moments are kept in each
 * parameter's own data type, as torch does.
 */
public final class AdamW {
    public static final String STEP_KEY = "step";
    public static final String FIRST_MOMENT_PREFIX = "exp_avg.";
    public static final String SECOND_MOMENT_PREFIX = "exp_avg_sq.";

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, INDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, INDArray> secondMoments = new LinkedHashMap<>();
    private long stepCount;

    public AdamW(double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("AdamW eps must be a finite number >= 0, got " + eps);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("AdamW weight decay must be a finite number >= 0, got " + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** One update of every parameter; {@code grads} must hold a gradient of the same shape for each one. */
    public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be a finite number >= 0, got " + lr);
        }
        checkSameNames(params, grads);
        if (stepCount > 0 && !firstMoments.keySet().equals(params.keySet())) {
            throw new IllegalArgumentException("AdamW was stepping parameters " + new TreeSet<>(firstMoments.keySet())
                    + " and is now given " + new TreeSet<>(params.keySet()) + ": the parameter set must not change");
        }
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray g = grads.get(e.getKey());
            if (!Arrays.equals(p.shape(), g.shape())) {
                throw new IllegalArgumentException("gradient of \"" + e.getKey() + "\" has shape " + Arrays.toString(g.shape())
                        + " but the parameter has " + Arrays.toString(p.shape()));
            }
            firstMoments.compute(e.getKey(), (k, m) -> moment(k, m, p));
            secondMoments.compute(e.getKey(), (k, v) -> moment(k, v, p));
        }
        stepCount++;
        double biasCorrection1 = 1 - Math.pow(beta1, stepCount);
        double sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, stepCount));
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray g = grads.get(e.getKey()).castTo(p.dataType());
            INDArray m = firstMoments.get(e.getKey());
            INDArray v = secondMoments.get(e.getKey());
            p.muli(1 - lr * weightDecay);
            m.muli(beta1).addi(g.mul(1 - beta1));
            v.muli(beta2).addi(g.mul(g).muli(1 - beta2));
            INDArray denominator = Transforms.sqrt(v, true).divi(sqrtBiasCorrection2).addi(eps);
            p.subi(m.div(denominator).muli(lr / biasCorrection1));
        }
    }

    /** Zero moments on first use; moments restored by loadState are checked and converted to the parameter's type. */
    private static INDArray moment(String name, INDArray existing, INDArray param) {
        if (existing == null) {
            return Nd4j.zeros(param.dataType(), param.shape());
        }
        if (!Arrays.equals(existing.shape(), param.shape())) {
            throw new IllegalArgumentException("AdamW state for \"" + name + "\" has shape " + Arrays.toString(existing.shape())
                    + " but the parameter has " + Arrays.toString(param.shape()) + ": the state belongs to another model");
        }
        return existing.dataType() == param.dataType() ? existing : existing.castTo(param.dataType());
    }

    private static void checkSameNames(Map<String, INDArray> params, Map<String, INDArray> grads) {
        if (!params.keySet().equals(grads.keySet())) {
            TreeSet<String> noGrad = new TreeSet<>(params.keySet());
            noGrad.removeAll(grads.keySet());
            TreeSet<String> noParam = new TreeSet<>(grads.keySet());
            noParam.removeAll(params.keySet());
            throw new IllegalArgumentException("parameters and gradients differ: without gradient " + noGrad
                    + ", gradient without parameter " + noParam);
        }
    }

    /** How many steps have been taken (t in the bias corrections). */
    public long stepCount() {
        return stepCount;
    }

    /**
     * A copy of the optimizer state for checkpoints: "step" (LONG scalar), "exp_avg.NAME" and "exp_avg_sq.NAME".
     * It can be written with SafeTensors as it is.
     */
    public Map<String, INDArray> state() {
        Map<String, INDArray> state = new LinkedHashMap<>();
        state.put(STEP_KEY, Nd4j.scalar(stepCount));
        firstMoments.forEach((k, m) -> state.put(FIRST_MOMENT_PREFIX + k, m.dup()));
        secondMoments.forEach((k, v) -> state.put(SECOND_MOMENT_PREFIX + k, v.dup()));
        return state;
    }

    /** Restores a state from {@link #state()}; the next step continues exactly where that one left off. */
    public void loadState(Map<String, INDArray> state) {
        INDArray step = state.get(STEP_KEY);
        if (step == null || step.length() != 1 || step.getDouble(0) < 0 || step.getDouble(0) != Math.rint(step.getDouble(0))) {
            throw new IllegalArgumentException("AdamW state has no valid \"" + STEP_KEY + "\" scalar");
        }
        Map<String, INDArray> first = new LinkedHashMap<>();
        Map<String, INDArray> second = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(SECOND_MOMENT_PREFIX)) {
                second.put(key.substring(SECOND_MOMENT_PREFIX.length()), e.getValue().dup());
            } else if (key.startsWith(FIRST_MOMENT_PREFIX)) {
                first.put(key.substring(FIRST_MOMENT_PREFIX.length()), e.getValue().dup());
            } else if (!key.equals(STEP_KEY)) {
                throw new IllegalArgumentException("AdamW state has unknown entry \"" + key + "\"");
            }
        }
        if (!first.keySet().equals(second.keySet())) {
            throw new IllegalArgumentException("AdamW state is incomplete: first moments for " + new TreeSet<>(first.keySet())
                    + " but second moments for " + new TreeSet<>(second.keySet()));
        }
        for (String name : first.keySet()) {
            if (!Arrays.equals(first.get(name).shape(), second.get(name).shape())) {
                throw new IllegalArgumentException("AdamW state for \"" + name + "\": moment shapes differ");
            }
        }
        firstMoments.clear();
        firstMoments.putAll(first);
        secondMoments.clear();
        secondMoments.putAll(second);
        stepCount = step.getLong(0);
    }
}
