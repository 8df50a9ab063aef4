package ai.chunkwise.train.model;

import ai.chunkwise.train.model.LlamaProjection;
import ai.chunkwise.train.model.LlamaTensorLayout;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test oracle: a Llama forward pass and a hand-derived backward pass in plain Java float64 loops, one
 * sequence at a time, over the WHOLE sequence (no chunks, no KV cache, no SameDiff). It shares nothing with
 * the model under test except the rotary tables' definition (HF's float32 angles), which it recomputes itself.
 * Its own backward is checked against finite differences in Float64LlamaTest.
 */
public final class Float64Llama {
    private final LlamaConfig c;
    private final Map<String, double[][]> w = new HashMap<>();
    private final LoraConfig lora;
    private final Map<String, double[][]> loraW = new HashMap<>();

    public record Result(double loss, double[][][] logits, Map<String, INDArray> gradients) {
    }

    public Float64Llama(LlamaConfig config, Map<String, INDArray> weights, PeftAdapter adapter) {
        this.c = config;
        LlamaTensorLayout.expectedShapes(config).keySet().forEach(n -> w.put(n, matrix(weights.get(n))));
        this.lora = adapter == null ? null : adapter.config();
        if (adapter != null) {
            adapter.tensors().forEach((n, t) -> loraW.put(n, matrix(t)));
        }
    }

    private static double[][] matrix(INDArray a) {
        INDArray d = a.castTo(DataType.DOUBLE);
        if (d.rank() == 1) {
            return new double[][]{d.toDoubleVector()};
        }
        return d.toDoubleMatrix();
    }

    // ---------------------------------------------------------------- small dense helpers

    /** x [n][in] times W^T, W [out][in] -> [n][out]. */
    private static double[][] linear(double[][] x, double[][] wt) {
        double[][] y = new double[x.length][wt.length];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < wt.length; o++) {
                double s = 0;
                for (int k = 0; k < x[i].length; k++) {
                    s += x[i][k] * wt[o][k];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    /** dy [n][out] times W [out][in] -> [n][in]. */
    private static double[][] linearBackInput(double[][] dy, double[][] wt) {
        double[][] dx = new double[dy.length][wt[0].length];
        for (int i = 0; i < dy.length; i++) {
            for (int o = 0; o < wt.length; o++) {
                double g = dy[i][o];
                if (g == 0) {
                    continue;
                }
                for (int k = 0; k < wt[o].length; k++) {
                    dx[i][k] += g * wt[o][k];
                }
            }
        }
        return dx;
    }

    /** dW [out][in] += dy^T x. */
    private static void linearBackWeight(double[][] dy, double[][] x, double[][] dw) {
        for (int i = 0; i < dy.length; i++) {
            for (int o = 0; o < dw.length; o++) {
                double g = dy[i][o];
                for (int k = 0; k < x[i].length; k++) {
                    dw[o][k] += g * x[i][k];
                }
            }
        }
    }

    private static void addInto(double[][] a, double[][] b) {
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] += b[i][j];
            }
        }
    }

    // ---------------------------------------------------------------- pieces with their backward

    private static final class NormCache {
        double[][] x;
        double[] r;
    }

    private double[][] rmsNorm(double[][] x, double[] weight, NormCache cache) {
        int n = x.length;
        int h = weight.length;
        double[][] y = new double[n][h];
        cache.x = x;
        cache.r = new double[n];
        for (int t = 0; t < n; t++) {
            double ms = 0;
            for (double v : x[t]) {
                ms += v * v;
            }
            double r = 1.0 / Math.sqrt(ms / h + c.rmsNormEps());
            cache.r[t] = r;
            for (int i = 0; i < h; i++) {
                y[t][i] = x[t][i] * r * weight[i];
            }
        }
        return y;
    }

    /** y = x r w with r = (mean x^2 + eps)^-1/2: dx = r (w dy) - x r^3 (sum_i w dy x) / h. */
    private double[][] rmsNormBack(double[][] dy, double[] weight, NormCache cache, double[] dWeight) {
        int h = weight.length;
        double[][] dx = new double[dy.length][h];
        for (int t = 0; t < dy.length; t++) {
            double r = cache.r[t];
            double dot = 0;
            for (int i = 0; i < h; i++) {
                double g = dy[t][i] * weight[i];
                dot += g * cache.x[t][i];
                if (dWeight != null) {
                    dWeight[i] += dy[t][i] * cache.x[t][i] * r;
                }
            }
            for (int i = 0; i < h; i++) {
                dx[t][i] = r * dy[t][i] * weight[i] - cache.x[t][i] * r * r * r * dot / h;
            }
        }
        return dx;
    }

    private boolean adapted(LlamaProjection p) {
        return lora != null && lora.projections().contains(p);
    }

    private double[][] project(double[][] x, int layer, LlamaProjection p) {
        double[][] y = linear(x, w.get(p.weightName(layer)));
        if (adapted(p)) {
            double[][] z = linear(x, loraW.get(PeftAdapter.tensorName(layer, p.moduleName(), 'A')));
            double[][] u = linear(z, loraW.get(PeftAdapter.tensorName(layer, p.moduleName(), 'B')));
            double s = lora.scaling();
            for (int i = 0; i < y.length; i++) {
                for (int o = 0; o < y[i].length; o++) {
                    y[i][o] += s * u[i][o];
                }
            }
        }
        return y;
    }

    /** Backward of {@link #project}: accumulates dW (full FT) or dA/dB (LoRA), returns dx. */
    private double[][] projectBack(double[][] dy, double[][] x, int layer, LlamaProjection p, Map<String, double[][]> g) {
        double[][] weight = w.get(p.weightName(layer));
        double[][] dx = linearBackInput(dy, weight);
        if (lora == null) {
            linearBackWeight(dy, x, g.computeIfAbsent(p.weightName(layer), k -> new double[weight.length][weight[0].length]));
        }
        if (adapted(p)) {
            String an = PeftAdapter.tensorName(layer, p.moduleName(), 'A');
            String bn = PeftAdapter.tensorName(layer, p.moduleName(), 'B');
            double[][] a = loraW.get(an);
            double[][] b = loraW.get(bn);
            double s = lora.scaling();
            double[][] z = linear(x, a);
            double[][] sdy = new double[dy.length][dy[0].length];
            for (int i = 0; i < dy.length; i++) {
                for (int o = 0; o < dy[i].length; o++) {
                    sdy[i][o] = s * dy[i][o];
                }
            }
            linearBackWeight(sdy, z, g.computeIfAbsent(bn, k -> new double[b.length][b[0].length]));
            double[][] dz = linearBackInput(sdy, b);
            linearBackWeight(dz, x, g.computeIfAbsent(an, k -> new double[a.length][a[0].length]));
            addInto(dx, linearBackInput(dz, a));
        }
        return dx;
    }

    /** Rotary tables in exact float64, as the model computes them in float64 (see RotaryEmbedding). */
    private double[][][] ropeTables(int[] positions) {
        int d = c.headDim();
        double[] inv = RotaryEmbedding.inverseFrequencies(c, false);
        double[][] cos = new double[positions.length][d];
        double[][] sin = new double[positions.length][d];
        for (int t = 0; t < positions.length; t++) {
            for (int i = 0; i < d; i++) {
                double angle = positions[t] * inv[i % (d / 2)];
                cos[t][i] = Math.cos(angle);
                sin[t][i] = Math.sin(angle);
            }
        }
        return new double[][][]{cos, sin};
    }

    /** In place on [T][heads*hd]: x*cos + rotate_half(x)*sin, rotate_half(x) = [-x2, x1]. */
    private void rope(double[][] x, int heads, double[][] cos, double[][] sin, boolean transpose) {
        int d = c.headDim();
        int half = d / 2;
        for (int t = 0; t < x.length; t++) {
            for (int h = 0; h < heads; h++) {
                int o = h * d;
                double[] out = new double[d];
                for (int i = 0; i < d; i++) {
                    // forward: out_i = x_i cos_i + rh_i sin_i with rh = [-x2, x1]
                    // transpose (backward): dx_i = g_i cos_i + [g2 sin2, -g1 sin1]_i
                    double partner;
                    if (!transpose) {
                        partner = i < half ? -x[t][o + i + half] * sin[t][i] : x[t][o + i - half] * sin[t][i];
                    } else {
                        partner = i < half ? x[t][o + i + half] * sin[t][i + half] : -x[t][o + i - half] * sin[t][i - half];
                    }
                    out[i] = x[t][o + i] * cos[t][i] + partner;
                }
                System.arraycopy(out, 0, x[t], o, d);
            }
        }
    }

    private static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    private static double siluGrad(double x) {
        double s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
    }

    // ---------------------------------------------------------------- the model

    private final class LayerCache {
        NormCache inNorm = new NormCache();
        NormCache postNorm = new NormCache();
        double[][] xn;
        double[][] q;
        double[][] k;
        double[][] v;
        double[][][] probs;   // [heads][T][T]
        double[][] ctx;
        double[][] yn;
        double[][] gate;
        double[][] up;
        double[][] act;
    }

    /**
     * Loss = sum_t weights[t] * CE(logits_t, labels[t]) for each row, summed over rows; gradients of it.
     *
     * @param segments [B][T] document ids or null (attention only within a document, causal)
     */
    public Result run(long[][] tokens, int[][] positions, int[][] segments, int[][] labels, double[][] weights) {
        int rows = tokens.length;
        int t = tokens[0].length;
        double[][][] logitsOut = new double[rows][][];
        Map<String, double[][]> g = new LinkedHashMap<>();
        double loss = 0;
        for (int b = 0; b < rows; b++) {
            loss += row(tokens[b], positions[b], segments == null ? null : segments[b], labels[b], weights[b], g,
                    logitsOut, b);
        }
        Map<String, long[]> shapes = LlamaTensorLayout.expectedShapes(c);
        Map<String, INDArray> grads = new LinkedHashMap<>();
        g.forEach((n, m) -> {
            INDArray a = Nd4j.createFromArray(m);
            boolean vector = shapes.containsKey(n) && shapes.get(n).length == 1;   // norm weights are [hidden]
            grads.put(n, vector ? a.reshape(m[0].length) : a);
        });
        return new Result(loss, logitsOut, grads);
    }

    private double row(long[] tok, int[] pos, int[] seg, int[] labels, double[] weights, Map<String, double[][]> g,
                       double[][][] logitsOut, int rowIndex) {
        int t = tok.length;
        int hidden = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int d = c.headDim();
        int nRep = heads / kvHeads;
        double scale = 1.0 / Math.sqrt(d);
        double[][][] tables = ropeTables(pos);
        double[][] cos = tables[0];
        double[][] sin = tables[1];
        double[][] emb = w.get(LlamaTensorLayout.EMBED_TOKENS);

        double[][] h = new double[t][];
        for (int i = 0; i < t; i++) {
            h[i] = emb[(int) tok[i]].clone();
        }
        LayerCache[] caches = new LayerCache[c.numHiddenLayers()];
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            LayerCache lc = caches[l] = new LayerCache();
            lc.xn = rmsNorm(h, w.get(LlamaTensorLayout.inputNorm(l))[0], lc.inNorm);
            lc.q = project(lc.xn, l, LlamaProjection.Q_PROJ);
            lc.k = project(lc.xn, l, LlamaProjection.K_PROJ);
            lc.v = project(lc.xn, l, LlamaProjection.V_PROJ);
            rope(lc.q, heads, cos, sin, false);
            rope(lc.k, kvHeads, cos, sin, false);
            lc.probs = new double[heads][t][t];
            lc.ctx = new double[t][heads * d];
            for (int hh = 0; hh < heads; hh++) {
                int kv = hh / nRep;
                for (int i = 0; i < t; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    double[] s = new double[t];
                    for (int j = 0; j <= i; j++) {
                        if (seg != null && seg[j] != seg[i]) {
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += lc.q[i][hh * d + e] * lc.k[j][kv * d + e];
                        }
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        if (seg != null && seg[j] != seg[i]) {
                            continue;
                        }
                        lc.probs[hh][i][j] = Math.exp(s[j] - max);
                        sum += lc.probs[hh][i][j];
                    }
                    for (int j = 0; j <= i; j++) {
                        lc.probs[hh][i][j] /= sum;
                        for (int e = 0; e < d; e++) {
                            lc.ctx[i][hh * d + e] += lc.probs[hh][i][j] * lc.v[j][kv * d + e];
                        }
                    }
                }
            }
            double[][] o = project(lc.ctx, l, LlamaProjection.O_PROJ);
            double[][] h2 = new double[t][hidden];
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < hidden; e++) {
                    h2[i][e] = h[i][e] + o[i][e];
                }
            }
            h = h2;
            lc.yn = rmsNorm(h, w.get(LlamaTensorLayout.postAttentionNorm(l))[0], lc.postNorm);
            lc.gate = project(lc.yn, l, LlamaProjection.GATE_PROJ);
            lc.up = project(lc.yn, l, LlamaProjection.UP_PROJ);
            lc.act = new double[t][lc.gate[0].length];
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < lc.act[i].length; e++) {
                    lc.act[i][e] = silu(lc.gate[i][e]) * lc.up[i][e];
                }
            }
            double[][] down = project(lc.act, l, LlamaProjection.DOWN_PROJ);
            double[][] h3 = new double[t][hidden];
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < hidden; e++) {
                    h3[i][e] = h[i][e] + down[i][e];
                }
            }
            h = h3;
        }
        NormCache finalNorm = new NormCache();
        double[][] hn = rmsNorm(h, w.get(LlamaTensorLayout.FINAL_NORM)[0], finalNorm);
        String headName = c.tieWordEmbeddings() ? LlamaTensorLayout.EMBED_TOKENS : LlamaTensorLayout.LM_HEAD;
        double[][] head = w.get(headName);
        double[][] logits = linear(hn, head);
        logitsOut[rowIndex] = logits;

        // cross-entropy and its gradient w.r.t. the logits
        double loss = 0;
        double[][] dLogits = new double[t][c.vocabSize()];
        for (int i = 0; i < t; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[i]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (double v : logits[i]) {
                sum += Math.exp(v - max);
            }
            double lse = max + Math.log(sum);
            loss += weights[i] * (lse - logits[i][labels[i]]);
            for (int v = 0; v < c.vocabSize(); v++) {
                dLogits[i][v] = weights[i] * Math.exp(logits[i][v] - lse);
            }
            dLogits[i][labels[i]] -= weights[i];
        }

        boolean full = lora == null;
        double[][] dh;
        if (full) {
            linearBackWeight(dLogits, hn, g.computeIfAbsent(headName, k -> new double[head.length][head[0].length]));
        }
        double[][] dhn = linearBackInput(dLogits, head);
        dh = rmsNormBack(dhn, w.get(LlamaTensorLayout.FINAL_NORM)[0], finalNorm,
                full ? g.computeIfAbsent(LlamaTensorLayout.FINAL_NORM, k -> new double[1][hidden])[0] : null);
        for (int l = c.numHiddenLayers() - 1; l >= 0; l--) {
            LayerCache lc = caches[l];
            // MLP block: h_out = h_mid + down(silu(gate) * up)
            double[][] dAct = projectBack(dh, lc.act, l, LlamaProjection.DOWN_PROJ, g);
            double[][] dGate = new double[t][dAct[0].length];
            double[][] dUp = new double[t][dAct[0].length];
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < dAct[i].length; e++) {
                    dGate[i][e] = dAct[i][e] * lc.up[i][e] * siluGrad(lc.gate[i][e]);
                    dUp[i][e] = dAct[i][e] * silu(lc.gate[i][e]);
                }
            }
            double[][] dyn = projectBack(dGate, lc.yn, l, LlamaProjection.GATE_PROJ, g);
            addInto(dyn, projectBack(dUp, lc.yn, l, LlamaProjection.UP_PROJ, g));
            addInto(dh, rmsNormBack(dyn, w.get(LlamaTensorLayout.postAttentionNorm(l))[0], lc.postNorm,
                    full ? g.computeIfAbsent(LlamaTensorLayout.postAttentionNorm(l), k -> new double[1][hidden])[0] : null));
            // attention block: h_mid = h_in + o_proj(attention)
            double[][] dCtx = projectBack(dh, lc.ctx, l, LlamaProjection.O_PROJ, g);
            double[][] dq = new double[t][heads * d];
            double[][] dk = new double[t][kvHeads * d];
            double[][] dv = new double[t][kvHeads * d];
            for (int hh = 0; hh < heads; hh++) {
                int kv = hh / nRep;
                for (int i = 0; i < t; i++) {
                    double[] dp = new double[i + 1];
                    double dot = 0;
                    for (int j = 0; j <= i; j++) {
                        double p = lc.probs[hh][i][j];
                        if (p == 0) {
                            continue;
                        }
                        double s = 0;
                        for (int e = 0; e < d; e++) {
                            s += dCtx[i][hh * d + e] * lc.v[j][kv * d + e];
                            dv[j][kv * d + e] += p * dCtx[i][hh * d + e];
                        }
                        dp[j] = s;
                        dot += p * s;
                    }
                    for (int j = 0; j <= i; j++) {
                        double p = lc.probs[hh][i][j];
                        if (p == 0) {
                            continue;
                        }
                        double ds = p * (dp[j] - dot) * scale;
                        for (int e = 0; e < d; e++) {
                            dq[i][hh * d + e] += ds * lc.k[j][kv * d + e];
                            dk[j][kv * d + e] += ds * lc.q[i][hh * d + e];
                        }
                    }
                }
            }
            rope(dq, heads, cos, sin, true);
            rope(dk, kvHeads, cos, sin, true);
            double[][] dxn = projectBack(dq, lc.xn, l, LlamaProjection.Q_PROJ, g);
            addInto(dxn, projectBack(dk, lc.xn, l, LlamaProjection.K_PROJ, g));
            addInto(dxn, projectBack(dv, lc.xn, l, LlamaProjection.V_PROJ, g));
            addInto(dh, rmsNormBack(dxn, w.get(LlamaTensorLayout.inputNorm(l))[0], lc.inNorm,
                    full ? g.computeIfAbsent(LlamaTensorLayout.inputNorm(l), k -> new double[1][hidden])[0] : null));
        }
        if (full) {
            double[][] dEmb = g.computeIfAbsent(LlamaTensorLayout.EMBED_TOKENS, k -> new double[emb.length][hidden]);
            for (int i = 0; i < t; i++) {
                for (int e = 0; e < hidden; e++) {
                    dEmb[(int) tok[i]][e] += dh[i][e];
                }
            }
        }
        return loss;
    }
}
