package ai.chunkwise.train.model;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Rotary position embedding tables, computed in Java and fed to the chunk graph as data (so frequency scalings,
 * YaRN's attention factor and position restarts at document starts cost no graph ops).
 *
 * <p>Follows Hugging Face's {@code LlamaRotaryEmbedding}: {@code inv_freq[i] = 1 / theta^(2i/d)}, optionally
 * rescaled as transformers' {@code modeling_rope_utils} does for linear, dynamic (NTK), yarn and llama3 scaling; the
 * angle table is {@code cat(freqs, freqs)} so {@code cos[p][i] = a * cos(p * inv_freq[i mod d/2])}, likewise sin,
 * with {@code a} YaRN's attention factor (1 otherwise). The graph applies {@code q*cos + rotate_half(q)*sin}.
 * Dynamic NTK depends on the sequence length: {@link #forSequence} gives the tables for one.
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
    private final LlamaConfig config;
    private final int headDim;
    private final boolean float32;
    private final double[] inverseFrequencies;
    private final double attentionFactor;

    /**
     * The tables for sequences up to max_position_embeddings long (for dynamic NTK scaling, use
     * {@link #forSequence} with the training sequence's length).
     *
     * @param dataType the model's dtype: DOUBLE gives exact float64 tables, anything else HF's float32 ones
     */
    public RotaryEmbedding(LlamaConfig config, DataType dataType) {
        this(config, dataType != DataType.DOUBLE, config.maxPositionEmbeddings());
    }

    private RotaryEmbedding(LlamaConfig config, boolean float32, int sequenceLength) {
        this.config = config;
        this.headDim = config.headDim();
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings, got " + headDim);
        }
        this.float32 = float32;
        this.inverseFrequencies = inverseFrequencies(config, float32, sequenceLength);
        this.attentionFactor = attentionFactor(config);
    }

    /**
     * The tables for a sequence whose largest position is {@code sequenceLength - 1}: the same as this one except
     * under dynamic NTK scaling, whose frequencies transformers recomputes from that length (SeCO's chunks of one
     * sequence must all use the sequence's frequencies, as one transformers forward over it does).
     */
    public RotaryEmbedding forSequence(int sequenceLength) {
        if (!(config.ropeScaling() instanceof RopeScaling.Dynamic)) {
            return this;
        }
        return new RotaryEmbedding(config, float32, sequenceLength);
    }

    /** HF's inv_freq (length head_dim/2) as transformers computes it, in float32, for sequences up to max_position_embeddings. */
    public static double[] inverseFrequencies(LlamaConfig config) {
        return inverseFrequencies(config, true);
    }

    /** inv_freq (length head_dim/2), scaled as configured; float32 = HF's rounding. Dynamic NTK: at max_position_embeddings. */
    public static double[] inverseFrequencies(LlamaConfig config, boolean float32) {
        return inverseFrequencies(config, float32, config.maxPositionEmbeddings());
    }

    /**
     * inv_freq for a sequence of {@code sequenceLength} positions (only dynamic NTK scaling depends on it); float32
     * rounds the steps transformers computes in float32 the same way.
     */
    public static double[] inverseFrequencies(LlamaConfig config, boolean float32, int sequenceLength) {
        RopeScaling scaling = config.ropeScaling();
        double theta = config.ropeTheta();
        int dim = config.headDim();
        if (scaling instanceof RopeScaling.Dynamic d) {
            theta = dynamicBase(config, d, float32, sequenceLength);
        }
        double[] inv = plainFrequencies(theta, dim, float32);
        if (scaling == null || scaling instanceof RopeScaling.Dynamic) {
            return inv;
        }
        if (scaling instanceof RopeScaling.Linear l) {
            for (int i = 0; i < inv.length; i++) {
                inv[i] = float32 ? (float) (inv[i] / (float) l.factor()) : inv[i] / l.factor();
            }
            return inv;
        }
        if (scaling instanceof RopeScaling.Yarn y) {
            return yarnFrequencies(config.ropeTheta(), dim, y, float32);
        }
        return llama3Scaled(inv, (RopeScaling.Llama3) scaling, float32);
    }

    /** The factor cos and sin are multiplied by: YaRN's attention factor, else 1. */
    public static double attentionFactor(LlamaConfig config) {
        return config.ropeScaling() instanceof RopeScaling.Yarn y ? y.effectiveAttentionFactor() : 1.0;
    }

    /** {@code 1 / theta^(2i/d)}; in float32 as HF: exponent and power rounded to float32. */
    private static double[] plainFrequencies(double theta, int dim, boolean float32) {
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            if (float32) {
                // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32
                float exponent = (float) (2 * i) / (float) dim;
                inv[i] = 1.0f / (float) Math.pow(theta, exponent);
            } else {
                inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / dim);
            }
        }
        return inv;
    }

    /**
     * HF {@code _compute_dynamic_ntk_parameters}: {@code theta * (factor * n / max_pos - (factor - 1))^(d/(d-2))}
     * with {@code n = max(sequenceLength, max_pos)}; transformers evaluates it on a tensor, in float32.
     */
    private static double dynamicBase(LlamaConfig config, RopeScaling.Dynamic d, boolean float32, int sequenceLength) {
        int maxPos = config.maxPositionEmbeddings();
        int n = Math.max(sequenceLength, maxPos);
        int dim = config.headDim();
        if (n == maxPos) {
            return config.ropeTheta();   // at or below the trained length: plain RoPE (HF computes this one in double)
        }
        if (!float32) {
            return config.ropeTheta() * Math.pow(d.factor() * n / maxPos - (d.factor() - 1), (double) dim / (dim - 2));
        }
        float ratio = (float) d.factor() * (float) n;
        ratio = ratio / (float) maxPos;
        ratio = ratio - (float) (d.factor() - 1);
        float powered = (float) Math.pow(ratio, (float) ((double) dim / (dim - 2)));
        return (float) (config.ropeTheta() * powered);
    }

    /** HF {@code _compute_yarn_parameters}: interpolated and original frequencies blended along a linear ramp. */
    private static double[] yarnFrequencies(double theta, int dim, RopeScaling.Yarn y, boolean float32) {
        double low = correctionDim(y.betaFast(), dim, theta, y.originalMaxPositionEmbeddings());
        double high = correctionDim(y.betaSlow(), dim, theta, y.originalMaxPositionEmbeddings());
        if (y.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) {
            high += 0.001;   // HF: prevents a division by zero
        }
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            if (float32) {
                float exponent = (float) (2 * i) / (float) dim;
                float pos = (float) Math.pow(theta, exponent);
                float extrapolation = 1.0f / pos;
                float interpolation = 1.0f / ((float) y.factor() * pos);
                float ramp = Math.min(1f, Math.max(0f, ((float) i - (float) low) / (float) (high - low)));
                float keep = 1f - ramp;
                inv[i] = interpolation * (1f - keep) + extrapolation * keep;
            } else {
                double pos = Math.pow(theta, (2.0 * i) / dim);
                double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
                double keep = 1 - ramp;
                inv[i] = 1.0 / (y.factor() * pos) * (1 - keep) + 1.0 / pos * keep;
            }
        }
        return inv;
    }

    /** The (fractional) dimension whose wavelength turns {@code rotations} times over {@code context} positions. */
    private static double correctionDim(double rotations, int dim, double theta, int context) {
        return dim * Math.log(context / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** HF {@code _compute_llama3_parameters}: long wavelengths divided by factor, a smooth blend in between. */
    private static double[] llama3Scaled(double[] inv, RopeScaling.Llama3 s, boolean float32) {
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
                if (attentionFactor != 1.0) {
                    c = (float) c * (float) attentionFactor;
                    s = (float) s * (float) attentionFactor;
                }
            } else {
                double angle = position * inverseFrequencies[i];
                c = Math.cos(angle) * attentionFactor;
                s = Math.sin(angle) * attentionFactor;
            }
            cos[offset + i] = c;
            cos[offset + half + i] = c;
            sin[offset + i] = s;
            sin[offset + half + i] = s;
        }
    }
}
