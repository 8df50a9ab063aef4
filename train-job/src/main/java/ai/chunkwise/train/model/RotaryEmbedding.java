package ai.chunkwise.train.model;

/**
 * Rotary position embedding tables, computed in Java and fed to the chunk graph as data (so llama3
 * frequency scaling and position restarts at document starts cost no graph ops).
 *
 * <p>Follows Hugging Face's {@code LlamaRotaryEmbedding}: {@code inv_freq[i] = 1 / theta^(2i/d)}, optionally
 * rescaled as in {@code _compute_llama3_parameters}; the angle table is {@code cat(freqs, freqs)} so
 * {@code cos[p][i] = cos(p * inv_freq[i mod d/2])}, likewise sin. The graph applies
 * {@code q*cos + rotate_half(q)*sin}.
 *
 * <p>Precision: transformers computes inv_freq, the angles {@code position * inv_freq} and their cos/sin in
 * float32 whatever the model dtype (autocast disabled, "force float32"), then casts the tables to the model
 * dtype. We round the same three steps to float32 so the tables equal HF's (up to the last ulp of cos/sin):
 * the angle's float32 rounding grows with the position (about 1e-5 rad at position 200, 1e-2 rad at 100k), so
 * exact float64 angles would rotate queries and keys differently from the checkpoints' own training code.
 * (Measured on the HF fixtures: float64 angles give 8.7e-7 relative logits error growing with position,
 * float32 ones 3.6e-7, flat in position; the rest is HF's float32 RMSNorm, see HfReferenceTest.)
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final double[] inverseFrequencies;

    public RotaryEmbedding(LlamaConfig config) {
        this.headDim = config.headDim();
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
        }
        this.inverseFrequencies = inverseFrequencies(config);
    }

    /** HF's inv_freq (length head_dim/2), including llama3 scaling when configured. */
    public static double[] inverseFrequencies(LlamaConfig config) {
        int half = config.headDim() / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32
            float exponent = (float) (2 * i) / (float) config.headDim();
            inv[i] = 1.0f / (float) Math.pow(config.ropeTheta(), exponent);
        }
        RopeScaling scaling = config.ropeScaling();
        if (scaling == null) {
            return inv;
        }
        if (!"llama3".equals(scaling.ropeType())) {
            throw new IllegalArgumentException("unsupported rope scaling type '" + scaling.ropeType()
                    + "': only 'llama3' (or no scaling) is implemented");
        }
        return llama3Scaled(inv, scaling);
    }

    /** HF {@code _compute_llama3_parameters}: long wavelengths divided by factor, a smooth blend in between. */
    private static double[] llama3Scaled(double[] inv, RopeScaling s) {
        double oldContext = s.originalMaxPositionEmbeddings();
        double lowFreqWavelen = oldContext / s.lowFreqFactor();
        double highFreqWavelen = oldContext / s.highFreqFactor();
        double[] out = new double[inv.length];
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            double scaled = wavelen > lowFreqWavelen ? inv[i] / s.factor() : inv[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                double smooth = (oldContext / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
            }
            out[i] = (float) scaled;   // HF keeps inv_freq as a float32 buffer
        }
        return out;
    }

    public int headDim() {
        return headDim;
    }

    /** Writes the tables of one position into {@code cos[offset .. offset+d)} and {@code sin[offset .. offset+d)}. */
    public void fill(int position, double[] cos, double[] sin, int offset) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = (float) position * (float) inverseFrequencies[i];   // float32 product, as HF
            double c = (float) Math.cos(angle);
            double s = (float) Math.sin(angle);
            cos[offset + i] = c;
            cos[offset + half + i] = c;
            sin[offset + i] = s;
            sin[offset + half + i] = s;
        }
    }
}
