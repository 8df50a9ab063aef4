package ai.chunkwise.train.model;

/**
 * The RoPE frequency scalings of long-context checkpoints ({@code rope_scaling} / {@code rope_parameters} in a
 * Hugging Face config), with the parameters transformers' {@code modeling_rope_utils} reads. {@link RotaryEmbedding}
 * turns them into frequencies. Plain RoPE is {@code null}. Other types (longrope, and anything unknown) are refused
 * when the config is read.
 */
public sealed interface RopeScaling permits RopeScaling.Linear, RopeScaling.Dynamic, RopeScaling.Yarn,
        RopeScaling.Llama3 {

    /** The config's spelling ("linear", "dynamic", "yarn", "llama3"). */
    String ropeType();

    /**
     * The longest context the scaled model is meant for, for the warning when a training sequence is longer:
     * max_position_embeddings, or the original context times the factor where that is larger. Dynamic NTK adapts
     * to any length (that is its point), so it has no bound.
     */
    default long contextLength(int maxPositionEmbeddings) {
        return maxPositionEmbeddings;
    }

    /** Position interpolation: every frequency divided by {@code factor}. */
    record Linear(double factor) implements RopeScaling {
        public Linear {
            requireFactor("linear", factor);
        }

        @Override
        public String ropeType() {
            return "linear";
        }

        /** Linear checkpoints keep the original max_position_embeddings; positions stretch by the factor. */
        @Override
        public long contextLength(int maxPositionEmbeddings) {
            return (long) Math.floor(factor * maxPositionEmbeddings);
        }
    }

    /**
     * Dynamic NTK-aware scaling: for a sequence of n > max_position_embeddings positions the base becomes
     * {@code theta * (factor * n / max_pos - (factor - 1))^(d / (d - 2))}; shorter sequences use plain RoPE.
     * Transformers recomputes it per forward call from the largest position; Chunkwise uses the whole training
     * sequence's, for every chunk, which is what one transformers forward over the sequence does.
     */
    record Dynamic(double factor) implements RopeScaling {
        public Dynamic {
            requireFactor("dynamic", factor);
        }

        @Override
        public String ropeType() {
            return "dynamic";
        }

        @Override
        public long contextLength(int maxPositionEmbeddings) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * YaRN: frequencies blended between interpolated (divided by factor) and original along a ramp between the
     * dimensions that turn {@code betaFast} and {@code betaSlow} times over the original context, and cos/sin
     * multiplied by an attention factor (given, or {@code 0.1 ln(factor) + 1}, or the DeepSeek mscale ratio).
     *
     * @param attentionFactor NaN when the config gives none (then derived as transformers does)
     * @param mscale          NaN when absent; used with {@code mscaleAllDim} only when both are set and non-zero
     */
    record Yarn(double factor, int originalMaxPositionEmbeddings, double attentionFactor, double betaFast,
                double betaSlow, double mscale, double mscaleAllDim, boolean truncate) implements RopeScaling {
        public Yarn {
            requireFactor("yarn", factor);
            if (originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("yarn RoPE scaling: original_max_position_embeddings must be positive, got "
                        + originalMaxPositionEmbeddings);
            }
            if (!Double.isNaN(attentionFactor) && !(attentionFactor > 0)) {
                throw new IllegalArgumentException("yarn RoPE scaling: attention_factor must be positive, got " + attentionFactor);
            }
            if (!(betaFast > 0) || !(betaSlow > 0)) {
                throw new IllegalArgumentException("yarn RoPE scaling: beta_fast and beta_slow must be positive, got "
                        + betaFast + " and " + betaSlow);
            }
        }

        /** Qwen2.5/Qwen3's form: factor and original context only, the paper's betas 32/1, attention factor derived. */
        public static Yarn of(double factor, int originalMaxPositionEmbeddings) {
            return new Yarn(factor, originalMaxPositionEmbeddings, Double.NaN, 32, 1, Double.NaN, Double.NaN, true);
        }

        @Override
        public String ropeType() {
            return "yarn";
        }

        /** transformers' attention_factor: the given one, else the mscale ratio, else 0.1 ln(factor) + 1. */
        public double effectiveAttentionFactor() {
            if (!Double.isNaN(attentionFactor)) {
                return attentionFactor;
            }
            boolean both = !Double.isNaN(mscale) && mscale != 0 && !Double.isNaN(mscaleAllDim) && mscaleAllDim != 0;
            return both ? mscaleOf(factor, mscale) / mscaleOf(factor, mscaleAllDim) : mscaleOf(factor, 1.0);
        }

        private static double mscaleOf(double scale, double m) {
            return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
        }

        @Override
        public long contextLength(int maxPositionEmbeddings) {
            return Math.max(maxPositionEmbeddings, (long) Math.floor(factor * originalMaxPositionEmbeddings));
        }
    }

    /**
     * Llama 3.1-style scaling: low frequencies divided by {@code factor}, high ones kept, the band between
     * {@code lowFreqFactor} and {@code highFreqFactor} interpolated.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings)
            implements RopeScaling {
        public Llama3 {
            requireFactor("llama3", factor);
            if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || Double.isInfinite(highFreqFactor)) {
                throw new IllegalArgumentException("llama3 RoPE scaling: need 0 < low_freq_factor < high_freq_factor, got "
                        + lowFreqFactor + " and " + highFreqFactor);
            }
            if (originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("llama3 RoPE scaling: original_max_position_embeddings must be positive, got "
                        + originalMaxPositionEmbeddings);
            }
        }

        @Override
        public String ropeType() {
            return "llama3";
        }
    }

    private static void requireFactor(String type, double factor) {
        if (!(factor >= 1.0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException(type + " RoPE scaling: factor must be a finite number >= 1, got " + factor);
        }
    }
}
