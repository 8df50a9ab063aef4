package ai.chunkwise.train.bench.experiment;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Experiment 1: does chunk-wise training learn behaviour that spans chunks? The same model trained on
 * {@link RetrievalTask} with each method and seed; then answer accuracy (per key digit) and answer loss against
 * the key's distance in chunks, on held-out passages. Within a seed every method sees the same batches.
 */
final class RetrievalExperiment {

    /** Sizes of one run of the experiment. */
    record Settings(int chunkSize, int chunks, int keyDigits, int batch, long steps, double lr, int seeds,
                    int evalPerDistance, long evalEvery, List<MethodSpec> methods) {
    }

    private final Settings settings;
    private final EuroparlDocuments corpus;
    private final PrintStream log;

    RetrievalExperiment(Settings settings, EuroparlDocuments corpus, PrintStream log) {
        this.settings = settings;
        this.corpus = corpus;
        this.log = log;
    }

    /** Appends one record per method/seed/distance to {@code records} and training curves to {@code curves}. */
    /** @param shard which of the runs (numbered seed-major, method-minor from 0) this process does */
    void run(ArrayNode records, ArrayNode curves, java.util.function.IntPredicate shard, Runnable afterEachRun) {
        Settings s = settings;
        RetrievalTask task = new RetrievalTask(s.chunkSize(), s.chunks(), s.keyDigits());
        int[] trainText = EuroparlDocuments.concatenated(corpus.training());
        int[] heldOutText = EuroparlDocuments.concatenated(corpus.heldOut());
        // the same held-out questions for every method and seed: evalPerDistance per distance
        RetrievalTask.Example[][] eval = new RetrievalTask.Example[s.chunks()][];
        SplittableRandom evalRandom = new SplittableRandom(0x5EEDL);
        for (int d = 1; d < s.chunks(); d++) {
            eval[d] = new RetrievalTask.Example[s.evalPerDistance()];
            for (int i = 0; i < s.evalPerDistance(); i++) {
                eval[d][i] = task.example(heldOutText, d, evalRandom);
            }
        }
        int index = 0;
        warmUp(task, trainText);
        for (int seed = 0; seed < s.seeds(); seed++) {
            for (MethodSpec method : s.methods()) {
                if (shard.test(index++)) {
                    runOne(task, method, seed, trainText, eval, records, curves);
                    afterEachRun.run();
                }
            }
        }
    }

    private void runOne(RetrievalTask task, MethodSpec method, int seed, int[] trainText,
                        RetrievalTask.Example[][] eval, ArrayNode records, ArrayNode curves) {
        Settings s = settings;
        LlamaModel model = TinyByteLlama.create(1000 + seed, s.batch());
        TrainingRun run = new TrainingRun(model, method.engine(model, s.chunkSize()), 7000L + seed, s.lr(), s.steps(), 1.0);
        ObjectNode curve = curves.addObject();
        curve.put("method", method.name()).put("label", method.label());
        putBudget(curve, method);
        curve.put("seed", seed);
        ArrayNode points = curve.putArray("points");
        run.train(s.steps(), st -> trainingBatch(task, trainText, seed, st), s.evalEvery(), (st, cpu, wall) -> {
            points.addObject().put("step", st).put("train_answer_loss", run.smoothedLoss()).put("train_cpu_s", cpu)
                    .put("train_wall_s", wall);
            log.printf(Locale.ROOT, "retrieval %s seed %d step %d: train answer loss (EMA) %.3f, %.0f s CPU%n",
                    method.label(), seed, st, run.smoothedLoss(), cpu);
        });
        for (int d = 1; d < s.chunks(); d++) {
            double[] correct = new double[s.keyDigits()];
            double lossSum = 0;
            int n = 0;
            RetrievalTask.Example[] examples = eval[d];
            for (int from = 0; from + s.batch() <= examples.length; from += s.batch()) {
                long[][] tokens = new long[s.batch()][];
                boolean[][] targets = new boolean[s.batch()][];
                for (int b = 0; b < s.batch(); b++) {
                    tokens[b] = examples[from + b].tokens();
                    targets[b] = examples[from + b].answerMask();
                }
                double[][][] scores = SequenceForward.answerScores(model, tokens, targets, task.answerStart());
                for (double[][] row : scores) {
                    for (int i = 0; i < s.keyDigits(); i++) {
                        correct[i] += row[i][0];
                        lossSum += row[i][1];
                    }
                    n++;
                }
            }
            ObjectNode r = records.addObject();
            r.put("experiment", "retrieval").put("method", method.name()).put("label", method.label());
            putBudget(r, method);
            r.put("seed", seed).put("distance", d);
            ArrayNode acc = r.putArray("accuracy_per_position");
            double mean = 0;
            for (double c : correct) {
                acc.add(c / n);
                mean += c / n / s.keyDigits();
            }
            r.put("accuracy", mean);
            r.put("answer_loss", lossSum / (n * s.keyDigits()));
            r.put("eval_sequences", n);
            r.put("steps", s.steps()).put("tokens", s.steps() * s.batch() * (long) task.length());
            r.put("chunks_visited", run.chunksVisited());
            r.put("train_cpu_s", run.cpuSeconds()).put("train_wall_s", run.wallSeconds());
            log.printf(Locale.ROOT, "retrieval %s seed %d distance %d: accuracy %s, answer loss %.3f%n",
                    method.label(), seed, d, acc, lossSum / (n * s.keyDigits()));
        }
    }

    /** A few untimed steps of every engine, so that no timed run pays the JIT compilation of the code paths. */
    private void warmUp(RetrievalTask task, int[] trainText) {
        for (MethodSpec method : settings.methods()) {
            LlamaModel model = TinyByteLlama.create(99, settings.batch());
            new TrainingRun(model, method.engine(model, settings.chunkSize()), 99, settings.lr(), 2, 1.0)
                    .train(2, st -> trainingBatch(task, trainText, 99, st), 2, null);
        }
    }

    static void putBudget(ObjectNode node, MethodSpec method) {
        if (method.sampling() != null) {
            node.put("sampling", method.sampling().configName()).put("budget", method.budget()).put("budget_rule", method.budgetLabel());
        } else {
            node.putNull("sampling").putNull("budget").putNull("budget_rule");
        }
    }

    /** Batch {@code step} of seed {@code seed}: distances uniform in 1..k-1; the same for every method. */
    private Batch trainingBatch(RetrievalTask task, int[] text, int seed, long step) {
        SplittableRandom random = new SplittableRandom((seed + 1) * 0x9E3779B97F4A7C15L ^ step);
        long[][] tokens = new long[settings.batch()][];
        boolean[][] mask = new boolean[settings.batch()][];
        for (int b = 0; b < settings.batch(); b++) {
            RetrievalTask.Example e = task.example(text, 1 + random.nextInt(task.chunks() - 1), random);
            tokens[b] = e.tokens();
            mask[b] = e.answerMask();
        }
        return new Batch(tokens, mask, null);
    }
}
