/**
 * The gradients of one optimizer step: its micro-batches drawn from the data in order, each one's gradients from
 * the engine, summed token-weighted in micro-batch order. {@link ai.chunkwise.train.step.StepGradients} is the
 * seam between the loop and where the micro-batches run: here, in this process
 * ({@link ai.chunkwise.train.step.LocalStepGradients}), or on Spark executors (package distributed).
 */
package ai.chunkwise.train.step;
