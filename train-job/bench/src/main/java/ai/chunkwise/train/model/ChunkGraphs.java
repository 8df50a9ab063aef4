package ai.chunkwise.train.model;

import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The SameDiff graphs behind a {@link LlamaModel}'s chunk step, for the step profile (ai.chunkwise.train.bench's
 * StepProfileProbe): the forward chunk graph and the gradient function {@link GradientFunction} runs.
 *
 * <p>Why this class sits in the model package of the benchmark module: the graphs are package-private in train-job.
 */
public final class ChunkGraphs {
    private ChunkGraphs() {
    }

    public static SameDiff forward(LlamaModel model) {
        return model.sameDiff();
    }

    /** The gradient function ("grad"), which exists once the model has run one backward chunk; else null. */
    public static SameDiff gradient(LlamaModel model) {
        return model.sameDiff().getFunction("grad");
    }
}
