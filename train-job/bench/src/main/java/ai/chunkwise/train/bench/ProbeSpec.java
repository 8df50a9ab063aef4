package ai.chunkwise.train.bench;

import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.engine.SpacoSampling;

import java.util.List;

/**
 * What one {@link StepProbe} measures: a training step of the gradient engine {@code engine} (the product's
 * {@link EngineSpec}, validated there), or one of the two baselines, {@code idle} (the model loaded, nothing run)
 * and {@code inference} (one forward pass in chunks of {@code engine}'s chunk size). Travels to the child JVM as
 * its argument list.
 */
record ProbeSpec(String probe, EngineSpec engine, int tokens, int warmups, int repeats) {
    static final String IDLE = "idle";
    static final String INFERENCE = "inference";
    static final String STEP = "step";

    ProbeSpec {
        if (!List.of(IDLE, INFERENCE, STEP).contains(probe)) {
            throw new IllegalArgumentException("unknown probe " + probe + ": use idle, inference or step");
        }
    }

    /** {@code method} is a gradient method's name ({@link Method#parse}) or one of the baselines. */
    static ProbeSpec of(String method, int tokens, int chunk, int warmups, int repeats) {
        if (method.equals(IDLE) || method.equals(INFERENCE)) {
            return new ProbeSpec(method, EngineSpec.seco(chunk), tokens, warmups, repeats);
        }
        return new ProbeSpec(STEP, new EngineSpec(Method.parse(method), chunk, 0, null), tokens, warmups, repeats);
    }

    static ProbeSpec spaco(int tokens, int chunk, double budget, String sampling, int warmups, int repeats) {
        return new ProbeSpec(STEP, EngineSpec.spaco(chunk, budget, SpacoSampling.parse(sampling)), tokens, warmups,
                repeats);
    }

    int chunk() {
        return engine.chunkSize();
    }

    int chunks() {
        return (tokens + chunk() - 1) / chunk();
    }

    /** A stable label such as "seco" or "spaco(t=2,bernoulli)". */
    String label() {
        if (!probe.equals(STEP)) {
            return probe;
        }
        if (!engine.method().sampled()) {
            return engine.method().configName();
        }
        double t = engine.budget();
        return "spaco(t=" + (t == Math.rint(t) ? String.valueOf((long) t) : String.valueOf(t)) + ","
                + engine.sampling().configName() + ")";
    }

    /** method tokens chunk budget sampling warmups repeats: the method is a gradient method's name or a baseline's. */
    List<String> toArgs() {
        return List.of(probe.equals(STEP) ? engine.method().configName() : probe, String.valueOf(tokens),
                String.valueOf(chunk()), String.valueOf(engine.budget()),
                engine.sampling() == null ? "none" : engine.sampling().configName(), String.valueOf(warmups),
                String.valueOf(repeats));
    }

    static ProbeSpec fromArgs(String[] a) {
        if (a.length != 7) {
            throw new IllegalArgumentException("StepProbe expects 7 arguments "
                    + "(method tokens chunk budget sampling warmups repeats), got " + a.length);
        }
        int tokens = Integer.parseInt(a[1]);
        int chunk = Integer.parseInt(a[2]);
        if (a[0].equals(Method.SPACO.configName())) {
            return spaco(tokens, chunk, Double.parseDouble(a[3]), a[4], Integer.parseInt(a[5]),
                    Integer.parseInt(a[6]));
        }
        return of(a[0], tokens, chunk, Integer.parseInt(a[5]), Integer.parseInt(a[6]));
    }
}
