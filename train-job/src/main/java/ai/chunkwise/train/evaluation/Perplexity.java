package ai.chunkwise.train.evaluation;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.data.BatchAssembler;
import ai.chunkwise.train.data.DatasetSource;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.InferencePass;
import ai.chunkwise.train.model.LlamaModel;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The mean next-token loss (and its exponential, the perplexity) of a model over a dataset, forward only, chunk by
 * chunk with a K/V cache ({@link InferencePass}). The mean is over every predicted token of every sequence
 * evaluated, so it does not depend on how the sequences are grouped into batches. Used by the {@code eval}
 * command and by the trainer's held-out evaluation, so that both report the same figure for the same weights.
 */
public final class Perplexity {
    private final InferencePass pass;
    private final BatchAssembler assembler;
    private final int rows;

    /** @param rows the model's batch size (fixed when its graph was built) */
    public Perplexity(LlamaModel model, int chunkSize, boolean documentBoundaries, int rows) {
        this.pass = new InferencePass(model, chunkSize);
        this.assembler = new BatchAssembler(documentBoundaries);
        this.rows = rows;
    }

    /** What one evaluation measured. */
    public record Result(double loss, long predictedTokens, long sequences, long sequencesDropped) {
        public double perplexity() {
            return Math.exp(loss);
        }
    }

    /**
     * Evaluates every full batch of {@code data}; the sequences that do not fill a last batch are dropped (the
     * graph's batch size is fixed: docs/dl4j-m2.1.md) and counted in the result.
     */
    public Result over(DatasetSource data) {
        double lossSum = 0;
        long predicted = 0;
        long evaluated = 0;
        Iterator<PackedSequence> it = data.rowsInOrder();   // streamed: one batch of rows in memory at a time
        for (long start = 0; start + rows <= data.size(); start += rows) {
            List<PackedSequence> group = new ArrayList<>(rows);
            for (int i = 0; i < rows; i++) {
                group.add(it.next());
            }
            Batch batch = assembler.assemble(group);
            long n = BatchAssembler.predictedTokens(batch);
            if (n > 0) {
                lossSum += pass.loss(batch) * n;
                predicted += n;
            }
            evaluated += rows;
        }
        if (predicted == 0) {
            throw new IllegalArgumentException("dataset " + data.location() + " has no predicted token in the "
                    + evaluated + " sequence(s) evaluated in batches of " + rows + ": nothing to measure");
        }
        return new Result(lossSum / predicted, predicted, evaluated, data.size() - evaluated);
    }
}
