package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.SecoEngine;
import ai.chunkwise.train.engine.SpacoEngine;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Experiment 2: SpaCO's time-to-quality against SeCO. Language modelling on Europarl bytes (k chunks of c
 * tokens), every method for the same steps and tokens, with the same batches per seed; held-out loss against
 * step and training CPU seconds; the final gap to SeCO (paired by seed) with a 95% confidence interval; the CPU
 * time to reach a fixed held-out loss; and the variance of each sampler's gradient estimate around SeCO's exact
 * gradient.
 */
final class TimeToQualityExperiment {

    record Settings(int chunkSize, int chunks, int batch, long steps, double lr, int seeds, int evalSequences,
                    long evalEvery, int varianceDraws, List<MethodSpec> methods) {
    }

    private final Settings settings;
    private final EuroparlDocuments corpus;
    private final PrintStream log;

    TimeToQualityExperiment(Settings settings, EuroparlDocuments corpus, PrintStream log) {
        this.settings = settings;
        this.corpus = corpus;
        this.log = log;
    }

    /**
     * @param shard which of the runs (numbered seed-major, method-minor from 0) this process does; the one that
     *              does run 0 (SeCO, seed 0) also measures the gradient variance on its trained weights
     */
    void run(ArrayNode records, ArrayNode curves, ArrayNode variance, java.util.function.IntPredicate shard,
             Runnable afterEachRun) {
        run(records, curves, variance, shard, afterEachRun, false);
    }

    /** @param varianceOnly train SeCO seed 0 (run 0) for the variance measurement, and record only that */
    void run(ArrayNode records, ArrayNode curves, ArrayNode variance, java.util.function.IntPredicate shard,
             Runnable afterEachRun, boolean varianceOnly) {
        Settings s = settings;
        int length = s.chunkSize() * s.chunks();
        int[] trainText = EuroparlDocuments.concatenated(corpus.training());
        int[] heldOutText = EuroparlDocuments.concatenated(corpus.heldOut());
        long[][] eval = windows(heldOutText, s.evalSequences(), length, new SplittableRandom(0x5EEDL));
        warmUp(trainText, length);
        int index = 0;
        for (int seed = 0; seed < s.seeds(); seed++) {
            for (MethodSpec method : s.methods()) {
                if (!shard.test(index++)) {
                    continue;
                }
                LlamaModel model = runOne(method, seed, varianceOnly ? records.arrayNode() : records,
                        trainText, eval, varianceOnly ? curves.arrayNode() : curves);
                if (seed == 0 && method.name().equals("seco")) {
                    // right away, so that a run cut short still has it
                    measureVariance(model.trainableParameters(), trainText, variance);
                }
                afterEachRun.run();
            }
        }
    }

    private LlamaModel runOne(MethodSpec method, int seed, ArrayNode records, int[] trainText, long[][] eval,
                              ArrayNode curves) {
        Settings s = settings;
        int length = s.chunkSize() * s.chunks();
        LlamaModel model = TinyByteLlama.create(2000 + seed, s.batch());
        TrainingRun run = new TrainingRun(model, method.engine(model, s.chunkSize()), 9000L + seed, s.lr(), s.steps(), 1.0);
        ObjectNode curve = curves.addObject();
        curve.put("method", method.name()).put("label", method.label());
        RetrievalExperiment.putBudget(curve, method);
        curve.put("seed", seed);
        ArrayNode points = curve.putArray("points");
        points.addObject().put("step", 0).put("eval_loss", evalLoss(model, eval)).put("train_cpu_s", 0.0)
                .put("train_wall_s", 0.0);
        run.train(s.steps(), step -> Batch.of(windows(trainText, s.batch(), length,
                new SplittableRandom((seed + 1) * 0x9E3779B97F4A7C15L ^ step))), s.evalEvery(), (step, cpu, wall) -> {
            double loss = evalLoss(model, eval);
            points.addObject().put("step", step).put("eval_loss", loss).put("train_loss_ema", run.smoothedLoss())
                    .put("train_cpu_s", cpu).put("train_wall_s", wall);
            log.printf(Locale.ROOT, "time-to-quality %s seed %d step %d: held-out %.4f, train (EMA) %.4f, %.1f s CPU%n",
                    method.label(), seed, step, loss, run.smoothedLoss(), cpu);
        });
        ObjectNode r = records.addObject();
        r.put("experiment", "time-to-quality").put("method", method.name()).put("label", method.label());
        RetrievalExperiment.putBudget(r, method);
        r.put("seed", seed).putNull("distance");
        r.put("final_eval_loss", points.get(points.size() - 1).get("eval_loss").asDouble());
        r.put("steps", s.steps()).put("tokens", s.steps() * s.batch() * (long) length);
        r.put("chunks_visited_per_sequence", run.chunksVisited() / (double) s.steps());
        r.put("train_cpu_s", run.cpuSeconds()).put("train_wall_s", run.wallSeconds());
        return model;
    }

    /** A few untimed steps of every engine, so that no timed run pays the JIT compilation of the code paths. */
    private void warmUp(int[] trainText, int length) {
        for (MethodSpec method : settings.methods()) {
            LlamaModel model = TinyByteLlama.create(99, settings.batch());
            new TrainingRun(model, method.engine(model, settings.chunkSize()), 99, settings.lr(), 2, 1.0).train(2,
                    st -> Batch.of(windows(trainText, settings.batch(), length, new SplittableRandom(st))), 2, null);
        }
    }

    private double evalLoss(LlamaModel model, long[][] eval) {
        double sum = 0;
        int batches = 0;
        for (int from = 0; from + settings.batch() <= eval.length; from += settings.batch()) {
            long[][] rows = java.util.Arrays.copyOfRange(eval, from, from + settings.batch());
            sum += SequenceForward.run(model, rows, null, false).loss();
            batches++;
        }
        return sum / batches;
    }

    /** {@code count} windows of {@code length} tokens at random offsets of {@code text}. */
    static long[][] windows(int[] text, int count, int length, SplittableRandom random) {
        long[][] out = new long[count][length];
        for (int i = 0; i < count; i++) {
            int from = random.nextInt(text.length - length + 1);
            for (int j = 0; j < length; j++) {
                out[i][j] = text[from + j];
            }
        }
        return out;
    }

    /**
     * The gradient estimate's spread at each budget and sampling, on SeCO's trained weights (seed 0) and one fixed
     * batch: mean over M draws of |g_hat - g|^2 / |g|^2 (g = SeCO's exact gradient), and the relative distance of
     * the draws' mean from g (bias plus the Monte Carlo error of M draws).
     */
    private void measureVariance(Map<String, INDArray> weights, int[] trainText, ArrayNode variance) {
        Settings s = settings;
        Map<String, INDArray> copy = new LinkedHashMap<>();
        weights.forEach((n, t) -> copy.put(n, t.dup()));
        LlamaModel model = new LlamaModel(TinyByteLlama.CONFIG, copy, null, org.nd4j.linalg.api.buffer.DataType.FLOAT,
                s.batch());
        model.setNativeMemoryCollectionThreshold(256L << 20);
        Batch batch = Batch.of(windows(trainText, s.batch(), s.chunkSize() * s.chunks(), new SplittableRandom(77)));
        long cpu0 = TrainingRun.processCpuNanos();
        Map<String, INDArray> exact = new SecoEngine(model, s.chunkSize()).compute(batch).gradients();
        double secoCpu = (TrainingRun.processCpuNanos() - cpu0) / 1e9;
        double exactNorm2 = squaredNorm(exact, null);
        for (MethodSpec method : s.methods()) {
            if (method.sampling() == null) {
                continue;
            }
            var engine = method.engine(model, s.chunkSize());
            Map<String, INDArray> mean = new LinkedHashMap<>();
            double mse = 0;
            double visited = 0;
            long c0 = TrainingRun.processCpuNanos();
            for (int m = 0; m < s.varianceDraws(); m++) {
                BatchGradients g = engine.compute(batch, 31337L + m);
                mse += squaredNorm(g.gradients(), exact) / exactNorm2;
                visited += g.chunksVisited();
                g.gradients().forEach((n, t) -> mean.merge(n, t.div(s.varianceDraws()), INDArray::addi));
            }
            double cpu = (TrainingRun.processCpuNanos() - c0) / 1e9 / s.varianceDraws();
            ObjectNode v = variance.addObject();
            v.put("method", method.name()).put("label", method.label());
            RetrievalExperiment.putBudget(v, method);
            v.put("draws", s.varianceDraws());
            v.put("relative_mse", mse / s.varianceDraws());
            v.put("relative_error_of_mean", Math.sqrt(squaredNorm(mean, exact) / exactNorm2));
            v.put("chunks_visited_mean", visited / s.varianceDraws());
            v.put("cpu_s_per_draw", cpu).put("seco_cpu_s", secoCpu);
            log.printf(Locale.ROOT, "variance %s: relative MSE %.4f, error of the mean of %d %.4f, %.2f chunks%n",
                    method.label(), mse / s.varianceDraws(), s.varianceDraws(),
                    v.get("relative_error_of_mean").asDouble(), visited / s.varianceDraws());
        }
    }

    /** sum over tensors of |a - b|^2 (b null: |a|^2), in float64. */
    private static double squaredNorm(Map<String, INDArray> a, Map<String, INDArray> b) {
        double sum = 0;
        for (Map.Entry<String, INDArray> e : a.entrySet()) {
            INDArray x = e.getValue().castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
            if (b != null) {
                x = x.sub(b.get(e.getKey()).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE));
            }
            double n = x.norm2Number().doubleValue();
            sum += n * n;
        }
        return sum;
    }

    /**
     * Per method: final held-out loss (mean, sd), the gap to SeCO paired by seed with a 95% t-interval, and the
     * training CPU seconds / steps to reach the target held-out loss: SeCO's mean held-out loss at half the steps.
     */
    static void summarize(ArrayNode records, ArrayNode curves, ObjectNode summary) {
        Map<String, List<JsonNode>> byLabel = new LinkedHashMap<>();
        records.forEach(r -> byLabel.computeIfAbsent(r.get("label").asText(), x -> new ArrayList<>()).add(r));
        List<JsonNode> seco = byLabel.get("seco");
        if (seco == null) {
            return;
        }
        double target = targetLoss(curves);
        summary.put("target_eval_loss", target);
        summary.put("target_rule", "SeCO's mean held-out loss at half the steps");
        ArrayNode methods = summary.putArray("methods");
        for (Map.Entry<String, List<JsonNode>> e : byLabel.entrySet()) {
            ObjectNode m = methods.addObject();
            JsonNode first = e.getValue().get(0);
            m.put("label", e.getKey()).put("method", first.get("method").asText());
            m.set("sampling", first.get("sampling"));
            m.set("budget", first.get("budget"));
            m.set("budget_rule", first.get("budget_rule"));
            List<Double> finals = new ArrayList<>();
            List<Double> gaps = new ArrayList<>();
            List<Double> cpu = new ArrayList<>();
            for (JsonNode r : e.getValue()) {
                finals.add(r.get("final_eval_loss").asDouble());
                cpu.add(r.get("train_cpu_s").asDouble());
                for (JsonNode base : seco) {
                    if (base.get("seed").asInt() == r.get("seed").asInt()) {
                        gaps.add(r.get("final_eval_loss").asDouble() - base.get("final_eval_loss").asDouble());
                    }
                }
            }
            m.put("seeds", finals.size());
            m.put("final_eval_loss_mean", Stats.mean(finals)).put("final_eval_loss_sd", Stats.sd(finals));
            m.put("gap_to_seco_mean", Stats.mean(gaps)).put("gap_to_seco_ci95", Stats.halfWidth95(gaps));
            m.put("train_cpu_s_mean", Stats.mean(cpu));
            List<Double> reachCpu = new ArrayList<>();
            List<Double> reachSteps = new ArrayList<>();
            for (JsonNode c : curves) {
                if (c.get("label").asText().equals(e.getKey())) {
                    double[] hit = firstReach(c.get("points"), target);
                    if (hit != null) {
                        reachSteps.add(hit[0]);
                        reachCpu.add(hit[1]);
                    }
                }
            }
            m.put("reached_target", reachCpu.size());
            m.put("cpu_s_to_target_mean", reachCpu.isEmpty() ? Double.NaN : Stats.mean(reachCpu));
            m.put("steps_to_target_mean", reachSteps.isEmpty() ? Double.NaN : Stats.mean(reachSteps));
        }
    }

    private static double targetLoss(ArrayNode curves) {
        List<Double> mid = new ArrayList<>();
        for (JsonNode c : curves) {
            if (c.get("label").asText().equals("seco")) {
                JsonNode pts = c.get("points");
                long last = pts.get(pts.size() - 1).get("step").asLong();
                mid.add(interpolate(pts, last / 2.0));
            }
        }
        return Stats.mean(mid);
    }

    private static double interpolate(JsonNode pts, double step) {
        for (int i = 1; i < pts.size(); i++) {
            double s0 = pts.get(i - 1).get("step").asDouble();
            double s1 = pts.get(i).get("step").asDouble();
            if (step <= s1) {
                double f = (step - s0) / (s1 - s0);
                return pts.get(i - 1).get("eval_loss").asDouble() * (1 - f) + pts.get(i).get("eval_loss").asDouble() * f;
            }
        }
        return pts.get(pts.size() - 1).get("eval_loss").asDouble();
    }

    /** {step, cpu seconds} where the held-out loss first falls to {@code target} (linear between points), or null. */
    private static double[] firstReach(JsonNode pts, double target) {
        for (int i = 1; i < pts.size(); i++) {
            double l0 = pts.get(i - 1).get("eval_loss").asDouble();
            double l1 = pts.get(i).get("eval_loss").asDouble();
            if (l1 <= target) {
                double f = l0 == l1 ? 1 : Math.max(0, Math.min(1, (l0 - target) / (l0 - l1)));
                double s0 = pts.get(i - 1).get("step").asDouble();
                double s1 = pts.get(i).get("step").asDouble();
                double c0 = pts.get(i - 1).get("train_cpu_s").asDouble();
                double c1 = pts.get(i).get("train_cpu_s").asDouble();
                return new double[]{s0 + f * (s1 - s0), c0 + f * (c1 - c0)};
            }
        }
        return null;
    }
}
