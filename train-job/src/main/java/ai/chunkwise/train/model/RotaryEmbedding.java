package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Rotary position embedding tables, computed in Java and fed to the chunk graph as data (so llama3
 * frequency scaling and position restarts at document starts cost no graph ops).
 *
 * <p>Follows Hugging Face's {@code LlamaRotaryEmbedding}: {@code inv_freq[i] = 1 / theta^(2i/d)}, optionally
 * rescaled as in {@code _compute_llama3_parameters}; the angle table is {@code cat(freqs, freqs)} so
 * {@code cos[p][i] = cos(p * inv_freq[i mod d/2])}, likewise sin. The graph applies
 * {@code q*cos + rotate_half(q)*sin}.
 *
 * <p>Precision follows the model's dtype. In float32 (training) we reproduce transformers exactly: it computes
 * inv_freq, the angles {@code position * inv_freq} and their cos/sin in float32 whatever the model dtype
 * (autocast disabled, "force float32"), so we round the same three steps to float32 and the tables equal HF's
 * (up to the last ulp of cos/sin); the angle's float32 rounding grows with the position (about 1e-5 rad at
 * position 200, 1e-2 rad at 100k), and checkpoints were trained with those rotations. In float64
 * (verification) every step is exact float64 math, which is what the float64 references of
 * train-job/tools/make_float64_references.py compute (HF's modules with the float32 casts removed).
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final boolean float32;
    private final double[] inverseFrequencies;

    /** @param dataType the model's dtype: DOUBLE gives exact float64 tables, anything else HF's float32 ones */
    public RotaryEmbedding(LlamaConfig config, DataType dataType) {
        this.headDim = config.headDim();
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
        }
        this.float32 = dataType != DataType.DOUBLE;
        this.inverseFrequencies = inverseFrequencies(config, float32);
    }

    /** HF's inv_freq (length head_dim/2) as transformers computes it, in float32. */
    public static double[] inverseFrequencies(LlamaConfig config) {
        return inverseFrequencies(config, true);
    }

    /** inv_freq (length head_dim/2), including llama3 scaling when configured; float32 = HF's rounding. */
    public static double[] inverseFrequencies(LlamaConfig config, boolean float32) {
        int half = config.headDim() / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            if (float32) {
                // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32
                float exponent = (float) (2 * i) / (float) config.headDim();
                inv[i] = 1.0f / (float) Math.pow(config.ropeTheta(), exponent);
            } else {
                inv[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim());
            }
        }
        RopeScaling scaling = config.ropeScaling();
        if (scaling == null) {
            return inv;
        }
        if (!"llama3".equals(scaling.ropeType())) {
            throw new IllegalArgumentException("unsupported rope scaling type '" + scaling.ropeType()
                    + "': only 'llama3' (or no scaling) is implemented");
        }
        return llama3Scaled(inv, scaling, float32);
    }

    /** HF {@code _compute_llama3_parameters}: long wavelengths divided by factor, a smooth blend in between. */
    private static double[] llama3Scaled(double[] inv, RopeScaling s, boolean float32) {
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
            out[i] = float32 ? (float) scaled : scaled;   // HF keeps inv_freq as a float32 buffer
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
            double c;
            double s;
            if (float32) {
                float angle = (float) position * (float) inverseFrequencies[i];   // float32 product, as HF
                c = (float) Math.cos(angle);
                s = (float) Math.sin(angle);
            } else {
                double angle = position * inverseFrequencies[i];
                c = Math.cos(angle);
                s = Math.sin(angle);
            }
            cos[offset + i] = c;
            cos[offset + half + i] = c;
            sin[offset + i] = s;
            sin[offset + half + i] = s;
        }
    }
}
