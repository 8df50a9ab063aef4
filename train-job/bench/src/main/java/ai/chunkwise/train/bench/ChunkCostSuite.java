package ai.chunkwise.train.bench;

import ai.chunkwise.train.memory.PeakMemory;
import ai.chunkwise.train.model.ChunkInput;
import ai.chunkwise.train.model.KeyValues;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Time of one SeCO chunk step (forward + backward with an injected K/V gradient) as a function of the past length
 * it attends to. Attention reads the past once per chunk, so the cost must grow linearly; a least-squares line,
 * its R^2, the worst relative residual and the p95/p50 spread per point show whether it does, and whether any
 * step is a slow outlier.
 */
final class ChunkCostSuite {
    private static final String SUITE = "chunk-cost";
    private final BenchCommand bench;

    ChunkCostSuite(BenchCommand bench) {
        this.bench = bench;
    }

    void run() {
        boolean quick = bench.quick();
        int chunk = quick ? 128 : 256;
        int step = quick ? 512 : 2048;
        int maxPast = quick ? 2048 : 16384;
        int repeats = quick ? 3 : 5;
        // past 0 is the first point: one warm-up left the JIT still compiling SameDiff's Java side during its
        // timed steps (the first of five was the slowest in both 2026-12-03 runs), which is not the chunk's cost
        int warmups = 3;
        LlamaModel model = BenchLlama.create(42);
        LlamaConfig c = model.config();
        SplittableRandom random = new SplittableRandom(3);
        List<double[]> points = new ArrayList<>();   // {past, p50, p95}
        try (PeakMemory memory = PeakMemory.start()) {
            for (int past = 0; past <= maxPast; past += step) {
                ChunkInput in = chunkInput(c, chunk, past, random);
                KeyValues pastKv = randomKv(c, past);
                KeyValues upstream = randomKv(c, chunk);
                StepTimes t = StepTimes.measure(warmups, repeats, () -> model.backward(in, pastKv, upstream, new HashMap<>()));
                points.add(new double[] {past, t.median(), t.percentile(95)});
                ObjectNode out = bench.result(SUITE);
                out.put("chunk_size", chunk);
                out.put("past_tokens", past);
                out.put("seconds_p50", t.median());
                out.put("seconds_p95", t.percentile(95));
                out.put("p95_over_p50", t.percentile(95) / t.median());
                out.putPOJO("seconds", t.seconds());
                out.put("cpu_seconds_p50", t.cpuMedian());
                out.put("minor_faults_per_step_p50", (long) t.minorFaultsMedian());
                out.put("rss_bytes", PeakMemory.residentSetBytes());
                bench.emit(out);
            }
            memory.close();
            fit(points, chunk, memory.peakResidentBytes());
        }
    }

    private void fit(List<double[]> pts, int chunk, long peakRss) {
        int n = pts.size();
        double mx = 0;
        double my = 0;
        for (double[] p : pts) {
            mx += p[0] / n;
            my += p[1] / n;
        }
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (double[] p : pts) {
            sxy += (p[0] - mx) * (p[1] - my);
            sxx += (p[0] - mx) * (p[0] - mx);
            syy += (p[1] - my) * (p[1] - my);
        }
        double slope = sxy / sxx;
        double intercept = my - slope * mx;
        double r2 = sxy * sxy / (sxx * syy);
        double worstResidual = 0;
        double worstSpread = 0;
        for (double[] p : pts) {
            worstResidual = Math.max(worstResidual, Math.abs(p[1] - (intercept + slope * p[0])) / (intercept + slope * p[0]));
            worstSpread = Math.max(worstSpread, p[2] / p[1]);
        }
        ObjectNode out = bench.result(SUITE);
        out.put("chunk_size", chunk);
        out.put("fit", "seconds = intercept + slope * past_tokens (least squares over p50)");
        out.put("intercept_s", intercept);
        out.put("slope_ms_per_1k_past", slope * 1024 * 1000);
        out.put("r2", r2);
        out.put("worst_relative_residual", worstResidual);
        out.put("worst_p95_over_p50", worstSpread);
        out.put("peak_rss_bytes", peakRss);
        bench.emit(out);
        ObjectNode ctx = bench.json().createObjectNode();
        ctx.put("chunk_size", chunk);
        ctx.put("points", pts.size());
        ctx.put("r2", r2);
        if (bench.quick()) {
            bench.emitContext(SUITE, "worst p95/p50 over the points", worstSpread, "<= 1.2 in a full run", ctx);
        } else {
            bench.emitTarget(SUITE, "worst p95/p50 over the points", worstSpread, "<= 1.2 at every point",
                    worstSpread <= 1.2, ctx);
        }
    }

    static ChunkInput chunkInput(LlamaConfig c, int t, int past, SplittableRandom random) {
        long[][] tokens = new long[1][t];
        int[][] positions = new int[1][t];
        int[][] labels = new int[1][t];
        double[][] weights = new double[1][t];
        for (int i = 0; i < t; i++) {
            tokens[0][i] = random.nextInt(c.vocabSize());
            labels[0][i] = random.nextInt(c.vocabSize());
            positions[0][i] = past + i;
            weights[0][i] = 1.0 / t;
        }
        return new ChunkInput(tokens, positions, null, labels, weights);
    }

    static KeyValues randomKv(LlamaConfig c, int length) {
        if (length == 0) {
            return KeyValues.empty(c, 1, DataType.FLOAT);
        }
        int layers = c.numHiddenLayers();
        INDArray[] k = new INDArray[layers];
        INDArray[] v = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = Nd4j.randn(DataType.FLOAT, 1, c.numKeyValueHeads(), length, c.headDim()).muli(0.1);
            v[l] = Nd4j.randn(DataType.FLOAT, 1, c.numKeyValueHeads(), length, c.headDim()).muli(0.1);
        }
        return new KeyValues(k, v);
    }
}
