package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.LlamaModel;

/**
 * How a batch's gradient is computed: the one list of gradient methods that {@code train}, {@code grad} and the
 * benchmarks share. Each constant builds its engine from an {@link EngineSpec}; a new method is a new constant
 * (and, if it needs one, a new {@link GradientEngine}).
 */
public enum Method {
    /** Plain back-propagation of the whole sequence: the oracle. */
    FULL("full", false) {
        @Override
        GradientEngine create(LlamaModel model, EngineSpec spec) {
            return new FullBackprop(model);
        }
    },
    /** Exact chunk-wise back-propagation, one chunk's activations in memory. */
    SECO("seco", true) {
        @Override
        GradientEngine create(LlamaModel model, EngineSpec spec) {
            return new SecoEngine(model, spec.chunkSize(), spec.kvCache());
        }
    },
    /** Sparse chunk-wise back-propagation over a random subset of about t chunks, scaled by 1/q. */
    SPACO("spaco", true) {
        @Override
        GradientEngine create(LlamaModel model, EngineSpec spec) {
            return new SpacoEngine(model, spec.chunkSize(), spec.budget(), spec.sampling(), spec.kvCache());
        }
    };

    private final String configName;
    private final boolean chunked;

    Method(String configName, boolean chunked) {
        this.configName = configName;
        this.chunked = chunked;
    }

    abstract GradientEngine create(LlamaModel model, EngineSpec spec);

    /** The name users write ({@code train.method.name}, {@code grad --method}). */
    public String configName() {
        return configName;
    }

    /** Whether the method cuts the sequence into chunks (and so needs a chunk size). */
    public boolean chunked() {
        return chunked;
    }

    /** Whether the method draws chunks at random (and so needs a budget and a sampling). */
    public boolean sampled() {
        return this == SPACO;
    }

    /** Parses a user-facing name ("full", "seco", "spaco"; case-insensitive); the error lists the valid ones. */
    public static Method parse(String name) {
        for (Method m : values()) {
            if (m.configName.equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown gradient method '" + name + "': use " + names());
    }

    /** "full, seco or spaco". */
    public static String names() {
        StringBuilder b = new StringBuilder();
        Method[] all = values();
        for (int i = 0; i < all.length; i++) {
            b.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].configName);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return configName;
    }
}
