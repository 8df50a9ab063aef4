package ai.chunkwise.train.distributed;

import java.io.Serializable;

/**
 * A micro-batch's gradients and counts, as its task returns them to the driver.
 *
 * @param loss mean loss over the micro-batch's {@code predicted} tokens
 */
public record MicroBatchResult(int index, double loss, long predicted, int chunksVisited, TensorSnapshot gradients)
        implements Serializable {
}
