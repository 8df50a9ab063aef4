package ai.chunkwise.train.distributed;

import java.io.Serializable;

/**
 * A micro-batch's gradients and counts, as its task returns them to the driver.
 *
 * @param loss          mean loss over the micro-batch's {@code predicted} tokens
 * @param computeMillis the task's own time: reading its rows, updating the weights, the engine
 */
public record MicroBatchResult(int index, double loss, long predicted, int chunksVisited, TensorSnapshot gradients,
                               double computeMillis)
        implements Serializable {
}
