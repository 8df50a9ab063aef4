package ai.chunkwise.train.model;

/**
 * Llama 3.1-style RoPE frequency scaling ("rope_type": "llama3" in Hugging Face configs): low frequencies are
 * divided by {@code factor}, high ones kept, and the band between {@code lowFreqFactor} and
 * {@code highFreqFactor} interpolated. Other scaling types (linear, dynamic, yarn, longrope) are not supported.
 */
public record RopeScaling(String ropeType, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {
    public static final String LLAMA3 = "llama3";

    public RopeScaling {
        if (!LLAMA3.equals(ropeType)) {
            throw new IllegalArgumentException("RoPE scaling type \"" + ropeType + "\" is not supported: only \"llama3\""
                    + " (or no scaling, rope_type \"default\") is implemented");
        }
        if (!(factor >= 1.0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("llama3 RoPE scaling: factor must be a finite number >= 1, got " + factor);
        }
        if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || Double.isInfinite(highFreqFactor)) {
            throw new IllegalArgumentException("llama3 RoPE scaling: need 0 < low_freq_factor < high_freq_factor, got "
                    + lowFreqFactor + " and " + highFreqFactor);
        }
        if (originalMaxPositionEmbeddings <= 0) {
            throw new IllegalArgumentException("llama3 RoPE scaling: original_max_position_embeddings must be positive, got "
                    + originalMaxPositionEmbeddings);
        }
    }
}
