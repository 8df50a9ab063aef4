package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DatasetSource;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.evaluation.Perplexity;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The trainer's evaluation on held-out data ({@code train.eval}): the dataset is opened and checked once, at
 * start-up (each shard verified when first read), and streamed through the model being trained whenever
 * {@link EvalSettings#dueAfter} says so. Its figures join that step's line of metrics.jsonl.
 */
final class HeldOutEvaluation implements AutoCloseable {
    private final DatasetSource data;
    private final Perplexity perplexity;

    private HeldOutEvaluation(DatasetSource data, Perplexity perplexity) {
        this.data = data;
        this.perplexity = perplexity;
    }

    /** The evaluation of this run, announced on {@code console}; null when {@code train.eval.dataset} is not set. */
    static HeldOutEvaluation open(TrainSettings s, LlamaModel model, int chunkSize, String modelSource,
                                  PrintStream console) {
        EvalSettings e = s.eval();
        if (!e.enabled()) {
            return null;
        }
        DatasetSource data = DatasetSource.open(e.dataset(), HadoopEnvironment.configuration(), e.maxSequences(),
                s.data().verifyChecksums());
        try {
            data.requireFits(model.config(), modelSource);
            if (data.size() < s.batchSize()) {
                throw new IllegalArgumentException("eval dataset " + e.dataset() + " holds " + data.size()
                        + " sequence(s), fewer than one batch of train.batch-size = " + s.batchSize() + ": hold out more "
                        + "documents (tokenize --eval-fraction) or raise train.eval.max-sequences");
            }
        } catch (RuntimeException ex) {
            data.close();
            throw ex;
        }
        console.printf(Locale.ROOT, "eval: %d held-out sequences of %s, %s%n", data.size(), e.dataset(),
                e.everySteps() > 0 ? "every " + e.everySteps() + " steps and after the last" : "after the last step");
        return new HeldOutEvaluation(data, new Perplexity(model, chunkSize, s.data().documentBoundaries(),
                s.batchSize()));
    }

    long sequences() {
        return data.size();
    }

    @Override
    public void close() {
        data.close();
    }

    /** Measures the model as it is now and adds eval_* fields to {@code entry}; returns the console line. */
    String evaluateInto(ObjectNode entry, long step) {
        long t0 = System.nanoTime();
        Perplexity.Result r = perplexity.over(data);
        double seconds = (System.nanoTime() - t0) / 1e9;
        entry.put("eval_loss", r.loss());
        entry.put("eval_perplexity", r.perplexity());
        entry.put("eval_predicted_tokens", r.predictedTokens());
        entry.put("eval_sequences", r.sequences());
        entry.put("eval_sequences_dropped", r.sequencesDropped());
        entry.put("eval_seconds", seconds);
        return String.format(Locale.ROOT, "eval after step %d | loss %.4f | perplexity %.3f | %d sequences, %d tokens | %.1f s",
                step, r.loss(), r.perplexity(), r.sequences(), r.predictedTokens(), seconds);
    }
}
