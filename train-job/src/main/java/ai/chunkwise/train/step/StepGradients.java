package ai.chunkwise.train.step;

import ai.chunkwise.train.optim.GradientAccumulator;

/**
 * Where the micro-batches of an optimizer step are computed. Every implementation adds the micro-batches'
 * gradients to the accumulator in micro-batch order, so the step's arithmetic does not depend on where they ran.
 */
public interface StepGradients extends AutoCloseable {
    /**
     * Reads step {@code step}'s micro-batches (the next ones in the data order) and adds their gradients to
     * {@code accumulator}, which the caller has reset.
     */
    StepSums compute(long step, GradientAccumulator accumulator);

    @Override
    void close();
}
