package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.engine.TruncatedSecoEngine;
import ai.chunkwise.train.model.LlamaModel;

import java.util.Locale;

/**
 * A gradient method as the results name it: {@code method} as {@code train} spells it ({@code seco},
 * {@code spaco}) or the ablation {@code seco-no-kv-grad}; for spaco its sampling and budget t.
 */
public record MethodSpec(String method, String sampling, double budget, String budgetLabel) {

    public static MethodSpec seco() {
        return new MethodSpec("seco", null, 0, null);
    }

    public static MethodSpec secoNoKvGrad() {
        return new MethodSpec(TruncatedSecoEngine.NAME, null, 0, null);
    }

    /** @param budgetLabel how the budget was chosen, e.g. "k/4" or "2" */
    public static MethodSpec spaco(SpacoSampling sampling, double budget, String budgetLabel) {
        return new MethodSpec("spaco", sampling.configName(), budget, budgetLabel);
    }

    public String label() {
        if (sampling == null) {
            return method;
        }
        return String.format(Locale.ROOT, "spaco(%s,t=%s%s)", sampling, trimmed(budget),
                budgetLabel != null && !budgetLabel.equals(trimmed(budget)) ? "=" + budgetLabel : "");
    }

    static String trimmed(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** The product's engine (built where {@code train} builds it), or the ablation's. */
    public GradientEngine engine(LlamaModel model, int chunkSize) {
        return switch (method) {
            case "seco" -> EngineSpec.seco(chunkSize).create(model);
            case "spaco" -> EngineSpec.spaco(chunkSize, budget, SpacoSampling.parse(sampling)).create(model);
            case TruncatedSecoEngine.NAME -> new TruncatedSecoEngine(model, chunkSize);
            default -> throw new IllegalArgumentException("unknown method " + method);
        };
    }
}
