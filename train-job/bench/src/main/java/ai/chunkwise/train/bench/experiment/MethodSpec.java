package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.model.LlamaModel;

import java.util.Locale;

/**
 * A gradient method as the results name it: the product's {@link EngineSpec} but for the chunk size (each
 * experiment sets that), or the ablation {@code seco-no-kv-grad} (SeCO with {@code crossChunkGradients} off).
 * The method, budget and sampling are checked by {@link EngineSpec} itself when an engine is made (not before: a
 * budget such as k/8 may suit only some of the methods an experiment could run).
 *
 * @param sampling    SpaCO's sampling; null for the other methods
 * @param budget      SpaCO's t; 0 for the other methods
 * @param budgetLabel how the budget was chosen, e.g. "k/4" or "2"; null for the other methods
 */
public record MethodSpec(Method method, SpacoSampling sampling, double budget, String budgetLabel,
                         boolean crossChunkGradients) {

    public MethodSpec {
        if (!crossChunkGradients && method != Method.SECO) {
            throw new IllegalArgumentException("only SeCO has an ablation without cross-chunk gradients");
        }
    }

    public static MethodSpec seco() {
        return new MethodSpec(Method.SECO, null, 0, null, true);
    }

    public static MethodSpec secoNoKvGrad() {
        return new MethodSpec(Method.SECO, null, 0, null, false);
    }

    /** @param budgetLabel how the budget was chosen, e.g. "k/4" or "2" */
    public static MethodSpec spaco(SpacoSampling sampling, double budget, String budgetLabel) {
        return new MethodSpec(Method.SPACO, sampling, budget, budgetLabel, true);
    }

    /** The name the results carry: {@code seco}, {@code spaco} or {@code seco-no-kv-grad}. */
    public String name() {
        return crossChunkGradients ? method.configName() : TruncatedSecoEngine.NAME;
    }

    public String label() {
        if (sampling == null) {
            return name();
        }
        return String.format(Locale.ROOT, "spaco(%s,t=%s%s)", sampling.configName(), trimmed(budget),
                budgetLabel != null && !budgetLabel.equals(trimmed(budget)) ? "=" + budgetLabel : "");
    }

    static String trimmed(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** This method at {@code chunkSize} tokens per chunk, as {@code train} would take it. */
    public EngineSpec engineSpec(int chunkSize) {
        return new EngineSpec(method, chunkSize, budget, sampling);
    }

    /** The product's engine (built where {@code train} builds it), or the ablation's. */
    public GradientEngine engine(LlamaModel model, int chunkSize) {
        EngineSpec spec = engineSpec(chunkSize);
        return crossChunkGradients ? spec.create(model) : new TruncatedSecoEngine(model, spec.chunkSize());
    }
}
